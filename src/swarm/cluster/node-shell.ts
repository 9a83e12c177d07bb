import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import { ClusterErrors } from './cluster-errors.js';
import { hostPort, type SshTarget } from './ssh-url.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A command left running on the node: its output line by line, and a way to end it. */
export interface RunningCommand {
  /** resolves with the first output line `match` accepts, or null when the command ends or `ms` pass */
  waitLine(match: (line: string) => boolean, ms: number): Promise<string | null>;
  lines(): string[];
  close(): void;
}

/** What paas trusts of a node's SSH host key: recorded at the first connection, refused if it changes. */
export interface HostKeyStore {
  knownHostKey(host: string): string | undefined;
  recordHostKey(host: string, hostKey: string): void;
}

/** `ssh-ed25519 SHA256:…` of a raw host key blob, as ssh-keygen -lf prints it. */
export function hostKeyFingerprint(blob: Buffer): string {
  const type = blob.subarray(4, 4 + blob.readUInt32BE(0)).toString();
  return `${type} SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * One SSH connection to a node with paas's key (ssh2's client): commands run through the node
 * user's shell. The host key is trusted on first use and recorded; a different key later is
 * refused before anything runs.
 */
export class NodeShell {
  private constructor(
    private readonly client: ssh2.Client,
    readonly target: SshTarget,
  ) {}

  static connect(target: SshTarget, privateKey: string, hosts: HostKeyStore, timeoutMs = 10_000): Promise<NodeShell> {
    const where = `${target.user}@${hostPort(target)}`;
    const known = hosts.knownHostKey(hostPort(target));
    let seen: string | undefined;
    return new Promise((resolve, reject) => {
      const client = new ssh2.Client();
      client.once('ready', () => {
        if (seen && !known) hosts.recordHostKey(hostPort(target), seen);
        resolve(new NodeShell(client, target));
      });
      client.once('error', (err: Error & { level?: string; code?: string }) => {
        client.end();
        if (known && seen && seen !== known)
          reject(ClusterErrors.hostKeyChanged(`the SSH host key of ${hostPort(target)} changed (was ${known}, now ${seen}): refused`, err));
        else if (err.level === 'client-authentication')
          reject(
            ClusterErrors.sshAuth(
              `${where} refused paas's SSH key: add the line printed by 'paas nodes:ssh-key' to that user's ~/.ssh/authorized_keys`,
              err,
            ),
          );
        else reject(ClusterErrors.unreachable(`cannot reach ${where} over SSH: ${err.code ?? err.message}`, err));
      });
      client.connect({
        host: target.host,
        port: target.port,
        username: target.user,
        privateKey,
        readyTimeout: timeoutMs,
        hostVerifier: (key: Buffer) => {
          seen = hostKeyFingerprint(key);
          return known === undefined || known === seen;
        },
      });
    });
  }

  /** Runs `command` through the node's shell, feeding `stdin` when given. */
  exec(command: string, opts: { stdin?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, stream) => {
        if (err) return reject(ClusterErrors.unreachable(`running a command on ${this.target.host} failed: ${err.message}`, err));
        let stdout = '';
        let stderr = '';
        const timer = setTimeout(() => {
          stream.close();
          reject(ClusterErrors.unreachable(`a command on ${this.target.host} did not finish in ${(opts.timeoutMs ?? 120_000) / 1000} s`));
        }, opts.timeoutMs ?? 120_000);
        stream.on('data', (d: Buffer) => {
          stdout += d.toString();
        });
        stream.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
        });
        stream.once('close', (code: number | null) => {
          clearTimeout(timer);
          resolve({ code: code ?? 255, stdout, stderr });
        });
        stream.end(opts.stdin ?? '');
      });
    });
  }

  /** Starts `command` and leaves it running, its output read line by line. */
  start(command: string): Promise<RunningCommand> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, stream) => {
        if (err) return reject(ClusterErrors.unreachable(`running a command on ${this.target.host} failed: ${err.message}`, err));
        const lines: string[] = [];
        const waiters = new Set<() => void>();
        let partial = '';
        let closed = false;
        const wake = () => {
          for (const w of waiters) w();
        };
        stream.on('data', (d: Buffer) => {
          partial += d.toString();
          const parts = partial.split('\n');
          partial = parts.pop() ?? '';
          lines.push(...parts);
          wake();
        });
        stream.stderr.on('data', () => {});
        stream.once('close', () => {
          closed = true;
          wake();
        });
        resolve({
          lines: () => [...lines],
          close: () => stream.close(),
          waitLine: (match, ms) =>
            new Promise((done) => {
              const check = () => {
                const hit = lines.find(match);
                if (hit !== undefined || closed) {
                  waiters.delete(check);
                  clearTimeout(timer);
                  done(hit ?? null);
                }
              };
              const timer = setTimeout(() => {
                waiters.delete(check);
                done(null);
              }, ms);
              waiters.add(check);
              check();
            }),
        });
      });
    });
  }

  close(): void {
    this.client.end();
  }
}
