/**
 * Versioned schema. Each entry runs once, in order, inside a transaction; `PRAGMA user_version`
 * records how far a database has come. Never edit a shipped migration: add the next one.
 */
export const MIGRATIONS: readonly string[] = [
  // v1: the first schema
  `
  CREATE TABLE apps (
    name TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
  );
  CREATE TABLE ssh_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    fingerprint TEXT NOT NULL UNIQUE,
    public_key TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE releases (
    app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    image TEXT,
    commit_sha TEXT,
    description TEXT NOT NULL,
    config_json TEXT NOT NULL,
    formation_json TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (app, version)
  );
  CREATE TABLE config_vars (
    app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (app, key)
  );
  CREATE TABLE formation (
    app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    process TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    PRIMARY KEY (app, process)
  );
  CREATE TABLE domains (
    domain TEXT PRIMARY KEY,
    app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE
  );
  CREATE TABLE deploys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app TEXT NOT NULL,
    release INTEGER,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    error TEXT
  );
  CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    key_name TEXT,
    command TEXT NOT NULL,
    app TEXT,
    exit_code INTEGER NOT NULL
  );
  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // v2: roles and per-app scopes on keys (collaborators later), per-app settings,
  // release stage timings, builder, process commands and port, the owning pid of a running deploy (crash recovery)
  `
  ALTER TABLE ssh_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
  CREATE TABLE ssh_key_apps (
    key_id INTEGER NOT NULL REFERENCES ssh_keys(id) ON DELETE CASCADE,
    app TEXT NOT NULL,
    PRIMARY KEY (key_id, app)
  );
  CREATE TABLE app_settings (
    app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (app, key)
  );
  ALTER TABLE releases ADD COLUMN builder TEXT;
  ALTER TABLE releases ADD COLUMN timings_json TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE deploys ADD COLUMN pid INTEGER;
  ALTER TABLE releases ADD COLUMN processes_json TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE releases ADD COLUMN port INTEGER;
  `,
  // v3: the app.json health check each release was built with, so a rollback restores it
  `
  ALTER TABLE releases ADD COLUMN checks_json TEXT;
  `,
  // v4: roles: developer keys reach only the apps granted to them (ssh_key_apps, from v2), may
  // create apps when added with --can-create; grants go with their app; audit rows get a detail
  // (a push's ref and shas, never values)
  `
  UPDATE ssh_keys SET role = 'developer' WHERE role = 'collaborator';
  ALTER TABLE ssh_keys ADD COLUMN can_create INTEGER NOT NULL DEFAULT 0;
  CREATE TRIGGER app_deleted_drops_grants AFTER DELETE ON apps BEGIN
    DELETE FROM ssh_key_apps WHERE app = OLD.name;
  END;
  ALTER TABLE events ADD COLUMN detail TEXT;
  `,
  // v5: the source of a release deployed from an image (git:load-image, git:from-image): the image id
  // it came from; a built release keeps its commit in commit_sha
  `
  ALTER TABLE releases ADD COLUMN source_image TEXT;
  `,
  // v6: HTTPS: one certificate per app and source (custom from certs:add, letsencrypt from ACME),
  // each app's redirect/HSTS choice, and the Let's Encrypt renewal state (no cron: the control
  // plane's scheduler reads it, so backoff and rate-limit waits survive restarts)
  `
  CREATE TABLE certificates (
    app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    source TEXT NOT NULL CHECK (source IN ('custom', 'letsencrypt')),
    cert_pem TEXT NOT NULL,
    key_pem TEXT NOT NULL,
    names_json TEXT NOT NULL,
    issuer TEXT NOT NULL,
    serial TEXT NOT NULL,
    not_before TEXT NOT NULL,
    not_after TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (app, source)
  );
  CREATE TABLE tls_options (
    app TEXT PRIMARY KEY REFERENCES apps(name) ON DELETE CASCADE,
    redirect INTEGER NOT NULL DEFAULT 1,
    hsts INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE acme_apps (
    app TEXT PRIMARY KEY REFERENCES apps(name) ON DELETE CASCADE,
    enabled_at TEXT NOT NULL,
    renew_at TEXT,
    next_attempt_at TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_attempt_at TEXT
  );
  `,
  // v7: databases as add-ons (postgres:, redis:): one row per instance (image pinned at creation,
  // generated credentials, volume, backup schedule and off-site target, the last backup's
  // outcome) and its links to apps (the variable each link set); a destroyed app drops its links
  `
  CREATE TABLE addons (
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    image TEXT NOT NULL,
    container TEXT NOT NULL,
    volume TEXT NOT NULL,
    user TEXT NOT NULL,
    password TEXT NOT NULL,
    database TEXT NOT NULL,
    created_at TEXT NOT NULL,
    schedule TEXT,
    keep INTEGER,
    target_json TEXT,
    last_backup_json TEXT,
    old_volumes_json TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (type, name)
  );
  CREATE TABLE addon_links (
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    var TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (type, name, app),
    FOREIGN KEY (type, name) REFERENCES addons(type, name) ON DELETE CASCADE
  );
  `,
  // v8: the process types app.json formation fixed for a release (JSON list), so a rollback brings
  // back that release's lock; NULL for releases made before (their lock is not known)
  `
  ALTER TABLE releases ADD COLUMN formation_lock_json TEXT;
  `,
  // v9: every certificate order placed with the ACME server, per app (not tied to the apps table, so
  // destroying and re-creating an app, or disabling and enabling Let's Encrypt, keeps its history):
  // the per-app budget and the spacing of forced orders count them, and a failure's retry time
  // outlives a disable
  `
  CREATE TABLE acme_orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app TEXT NOT NULL,
    started_at TEXT NOT NULL,
    forced INTEGER NOT NULL,
    by TEXT NOT NULL,
    issued INTEGER NOT NULL,
    error_code TEXT,
    next_attempt_at TEXT
  );
  CREATE INDEX acme_orders_app ON acme_orders (app, started_at);
  `,
  // v10: per-app database logins: each link's own login and password (NULL: a link made before them,
  // which still holds the service's superuser URL until it is linked again), and each add-on
  // container's memory limit (NULL: the default)
  `
  ALTER TABLE addon_links ADD COLUMN login TEXT;
  ALTER TABLE addon_links ADD COLUMN password TEXT;
  ALTER TABLE addons ADD COLUMN memory_bytes INTEGER;
  `,
  // vNEXT (s-notify): webhooks told about deploys, crashes, renewals, backups and nodes: the events
  // each wants (JSON list), its signing secret, and how its last delivery ended
  `
  CREATE TABLE notifications (
    name TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    events_json TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_event TEXT,
    last_at TEXT,
    last_ok INTEGER,
    last_status INTEGER,
    last_error TEXT,
    last_attempts INTEGER
  );
  `,
  // vNEXT (s-cron): app.json cron. The tasks each built image came with (a config change or a
  // rollback reuses its image, so the live release's tasks follow it); what is suspended (task_id
  // '*': the whole app), surviving restarts; and every run, with its container and result
  `
  CREATE TABLE cron_tasks (
    app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    image TEXT NOT NULL,
    tasks_json TEXT NOT NULL,
    PRIMARY KEY (app, image)
  );
  CREATE TABLE cron_suspended (
    app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    task_id TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (app, task_id)
  );
  CREATE TABLE cron_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    task_id TEXT NOT NULL,
    release INTEGER NOT NULL,
    trigger TEXT NOT NULL,
    container TEXT,
    started_at TEXT NOT NULL,
    deadline TEXT NOT NULL,
    finished_at TEXT,
    result TEXT NOT NULL,
    exit_code INTEGER
  );
  CREATE INDEX cron_runs_task ON cron_runs (app, task_id, id);
  CREATE INDEX cron_runs_running ON cron_runs (result);
  `,
  // vNEXT (s-cluster): the Swarm nodes paas joined (name, Swarm node ID, how it reaches them over
  // SSH, the address they advertise) and the SSH host keys it trusted at the first connection
  `
  CREATE TABLE swarm_nodes (
    name TEXT PRIMARY KEY,
    node_id TEXT NOT NULL UNIQUE,
    ssh_url TEXT,
    address TEXT NOT NULL,
    added_at TEXT NOT NULL
  );
  CREATE TABLE ssh_known_hosts (
    host TEXT PRIMARY KEY,
    host_key TEXT NOT NULL,
    recorded_at TEXT NOT NULL
  );
  `,
  // vNEXT (dash-server): the web dashboard's one-time login links and its sessions, both stored
  // as SHA-256 hashes of their secrets; a removed key takes its links and sessions with it
  `
  CREATE TABLE dashboard_logins (
    token_hash TEXT PRIMARY KEY,
    key_id INTEGER NOT NULL REFERENCES ssh_keys(id) ON DELETE CASCADE,
    next TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE TABLE dashboard_sessions (
    id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    key_id INTEGER NOT NULL REFERENCES ssh_keys(id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    client TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
  );
  CREATE INDEX dashboard_sessions_key ON dashboard_sessions (key_id);
  `,
];
