import { type Db, now } from './database.js';

export interface SwarmNodeRow {
  name: string;
  /** the Swarm node ID the engine gave it when it joined */
  node_id: string;
  /** how paas reaches it: ssh://USER@ADDR[:PORT] (NULL for the manager, which is paas's own engine) */
  ssh_url: string | null;
  /** the address it advertises to the Swarm */
  address: string;
  added_at: string;
}

/** The Swarm nodes paas made or joined (swarm_nodes) and the SSH host keys it trusts (ssh_known_hosts). */
export class SwarmNodesRepository {
  constructor(private readonly db: Db) {}

  list(): SwarmNodeRow[] {
    return this.db.prepare('SELECT * FROM swarm_nodes ORDER BY added_at, name').all() as SwarmNodeRow[];
  }
  byName(name: string): SwarmNodeRow | undefined {
    return this.db.prepare('SELECT * FROM swarm_nodes WHERE name = ?').get(name) as SwarmNodeRow | undefined;
  }
  add(row: Omit<SwarmNodeRow, 'added_at'>): void {
    this.db
      .prepare('INSERT INTO swarm_nodes (name, node_id, ssh_url, address, added_at) VALUES (?, ?, ?, ?, ?)')
      .run(row.name, row.node_id, row.ssh_url, row.address, now());
  }
  remove(name: string): void {
    this.db.prepare('DELETE FROM swarm_nodes WHERE name = ?').run(name);
  }
  /** the host key recorded at the first connection to `host` (`addr:port`), as `type sha256-fingerprint` */
  knownHostKey(host: string): string | undefined {
    return (this.db.prepare('SELECT host_key FROM ssh_known_hosts WHERE host = ?').get(host) as { host_key: string } | undefined)?.host_key;
  }
  recordHostKey(host: string, hostKey: string): void {
    this.db.prepare('INSERT OR IGNORE INTO ssh_known_hosts (host, host_key, recorded_at) VALUES (?, ?, ?)').run(host, hostKey, now());
  }
}
