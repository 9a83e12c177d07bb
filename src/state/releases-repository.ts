import { type Db, now } from './database.js';

export type ReleaseStatus = 'pending' | 'building' | 'deploying' | 'live' | 'superseded' | 'failed';

export interface Release {
  app: string;
  version: number;
  image: string | null;
  commitSha: string | null;
  description: string;
  config: Record<string, string>;
  formation: Record<string, number>;
  status: ReleaseStatus;
  builder: string | null;
  timings: Record<string, number>;
  /** process type -> command (Procfile); a type without a command runs the image's own */
  processes: Record<string, string | null>;
  /** PORT the containers listen on */
  port: number | null;
  /** the app.json `healthchecks.web` entry this release came with (null: none) */
  appChecks: Record<string, unknown> | null;
  /** the id of the image a release was deployed from without a build (git:load-image, git:from-image); null: built from commitSha */
  sourceImage: string | null;
  /** process types app.json `formation` fixed when this release was made; null: not known (made before schema v8, or an image deploy) */
  formationLock: string[] | null;
  createdAt: string;
}

interface ReleaseRow {
  app: string;
  version: number;
  image: string | null;
  commit_sha: string | null;
  description: string;
  config_json: string;
  formation_json: string;
  status: ReleaseStatus;
  builder: string | null;
  timings_json: string;
  processes_json: string;
  port: number | null;
  checks_json: string | null;
  source_image: string | null;
  formation_lock_json: string | null;
  created_at: string;
}

const fromRow = (r: ReleaseRow): Release => ({
  app: r.app,
  version: r.version,
  image: r.image,
  commitSha: r.commit_sha,
  description: r.description,
  config: JSON.parse(r.config_json),
  formation: JSON.parse(r.formation_json),
  status: r.status,
  builder: r.builder,
  timings: JSON.parse(r.timings_json),
  processes: JSON.parse(r.processes_json),
  port: r.port,
  appChecks: r.checks_json ? JSON.parse(r.checks_json) : null,
  sourceImage: r.source_image,
  formationLock: r.formation_lock_json ? JSON.parse(r.formation_lock_json) : null,
  createdAt: r.created_at,
});

export class ReleasesRepository {
  constructor(private readonly db: Db) {}

  /** Allocates the next version number atomically and records the release. */
  create(
    r: Omit<Release, 'version' | 'createdAt' | 'timings' | 'appChecks' | 'sourceImage' | 'formationLock'> &
      Partial<Pick<Release, 'appChecks' | 'sourceImage' | 'formationLock'>>,
  ): Release {
    return this.db
      .transaction(() => {
        const { v } = this.db.prepare('SELECT coalesce(max(version), 0) + 1 AS v FROM releases WHERE app = ?').get(r.app) as { v: number };
        this.db
          .prepare(
            `INSERT INTO releases (app, version, image, commit_sha, description, config_json, formation_json, status, builder, timings_json,
               processes_json, port, checks_json, source_image, formation_lock_json, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            r.app,
            v,
            r.image,
            r.commitSha,
            r.description,
            JSON.stringify(r.config),
            JSON.stringify(r.formation),
            r.status,
            r.builder,
            JSON.stringify(r.processes),
            r.port,
            r.appChecks ? JSON.stringify(r.appChecks) : null,
            r.sourceImage ?? null,
            r.formationLock ? JSON.stringify(r.formationLock) : null,
            now(),
          );
        return this.get(r.app, v)!;
      })
      .immediate();
  }
  get(app: string, version: number): Release | undefined {
    const row = this.db.prepare('SELECT * FROM releases WHERE app = ? AND version = ?').get(app, version) as ReleaseRow | undefined;
    return row && fromRow(row);
  }
  list(app: string, limit = 100): Release[] {
    return (this.db.prepare('SELECT * FROM releases WHERE app = ? ORDER BY version DESC LIMIT ?').all(app, limit) as ReleaseRow[]).map(
      fromRow,
    );
  }
  /** The release that is serving now. */
  current(app: string): Release | undefined {
    const row = this.db.prepare("SELECT * FROM releases WHERE app = ? AND status = 'live' ORDER BY version DESC LIMIT 1").get(app) as
      | ReleaseRow
      | undefined;
    return row && fromRow(row);
  }
  /** app -> version of its live release, for every app that has one. */
  liveVersions(): Map<string, number> {
    const rows = this.db.prepare("SELECT app, max(version) AS version FROM releases WHERE status = 'live' GROUP BY app").all() as {
      app: string;
      version: number;
    }[];
    return new Map(rows.map((r) => [r.app, r.version]));
  }
  update(
    app: string,
    version: number,
    patch: Partial<Pick<Release, 'image' | 'status' | 'builder' | 'timings' | 'formation' | 'description' | 'processes' | 'port'>>,
  ): void {
    const columns: [keyof typeof patch, string, (v: never) => unknown][] = [
      ['image', 'image', (v) => v],
      ['status', 'status', (v) => v],
      ['builder', 'builder', (v) => v],
      ['description', 'description', (v) => v],
      ['timings', 'timings_json', (v) => JSON.stringify(v)],
      ['formation', 'formation_json', (v) => JSON.stringify(v)],
      ['processes', 'processes_json', (v) => JSON.stringify(v)],
      ['port', 'port', (v) => v],
    ];
    const cols: string[] = [];
    const vals: unknown[] = [];
    for (const [key, column, encode] of columns) {
      if (patch[key] === undefined) continue;
      cols.push(`${column} = ?`);
      vals.push(encode(patch[key] as never));
    }
    if (cols.length === 0) return;
    this.db.prepare(`UPDATE releases SET ${cols.join(', ')} WHERE app = ? AND version = ?`).run(...vals, app, version);
  }
  /** Marks `version` live and every other live release of the app superseded, in one transaction. */
  markLive(app: string, version: number): void {
    this.db.transaction(() => {
      this.db.prepare("UPDATE releases SET status = 'superseded' WHERE app = ? AND status = 'live' AND version != ?").run(app, version);
      this.db.prepare("UPDATE releases SET status = 'live' WHERE app = ? AND version = ?").run(app, version);
    })();
  }
}
