import { execFile } from 'node:child_process';

export interface CurlReply {
  status: number;
  /** lowercase names; repeated headers joined with ', ' */
  headers: Record<string, string>;
  body: string;
  /** every status line curl saw, interim ones (100 Continue) included */
  statusLines: string[];
  ms: number;
}

/**
 * Runs the real curl against the proxy and parses its `-D -` output (interim 1xx responses first).
 * `args` go before the URL; a failed transfer rejects with curl's message.
 */
export function curl(url: string, args: string[] = [], timeoutMs = 20_000): Promise<CurlReply> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(
      'curl',
      ['-sS', '-D', '-', '--max-time', String(Math.ceil(timeoutMs / 1000)), ...args, url],
      { encoding: 'latin1', maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`curl ${args.join(' ')} ${url}: ${stderr.trim() || err.message}`));
          return;
        }
        let rest = stdout;
        const statusLines: string[] = [];
        let head = '';
        while (rest.startsWith('HTTP/')) {
          const end = rest.indexOf('\r\n\r\n');
          head = end === -1 ? rest : rest.slice(0, end);
          rest = end === -1 ? '' : rest.slice(end + 4);
          statusLines.push(head.split('\r\n')[0]);
          if (!/^HTTP\/\S+ 1\d\d/.test(head)) break;
        }
        const headers: Record<string, string> = {};
        for (const line of head.split('\r\n').slice(1)) {
          const i = line.indexOf(':');
          if (i <= 0) continue;
          const k = line.slice(0, i).trim().toLowerCase();
          const v = line.slice(i + 1).trim();
          headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
        }
        const status = Number(/^HTTP\/\S+ (\d{3})/.exec(statusLines.at(-1) ?? '')?.[1] ?? 0);
        resolve({ status, headers, body: rest, statusLines, ms: performance.now() - started });
      },
    );
  });
}
