import http from 'node:http';
import https from 'node:https';

/** How long a delivery may take: to connect (TCP and TLS), and in all until the answer's end. */
export interface SendTimeouts {
  connectMs: number;
  responseMs: number;
}

export interface SendResult {
  ok: boolean;
  /** the receiver's HTTP status (null: no answer) */
  status: number | null;
  /** one line for `notifications:list` (null when delivered) */
  error: string | null;
  /** whether another attempt may succeed: no answer, a timeout, 408, 429 or 5xx */
  retry: boolean;
  ms: number;
}

/** the part of an error answer kept for the report */
const KEEP_BODY = 200;

/**
 * One POST of `body` to `url`, never following redirects, bounded by `timeouts` and `signal`.
 * Resolves (never rejects) with what happened.
 */
export function sendWebhook(
  url: URL,
  headers: Record<string, string>,
  body: string,
  timeouts: SendTimeouts,
  signal?: AbortSignal,
): Promise<SendResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    let done = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (r: Omit<SendResult, 'ms'>) => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      signal?.removeEventListener('abort', onAbort);
      resolve({ ...r, ms: Date.now() - started });
    };
    const fail = (error: string, retry = true) => finish({ ok: false, status: null, error, retry });
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(url, {
      method: 'POST',
      agent: false,
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
    });
    const onAbort = () => {
      fail('cancelled', false);
      req.destroy();
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const after = (ms: number, what: string) => {
      const t = setTimeout(() => {
        fail(what);
        req.destroy();
      }, ms);
      t.unref();
      timers.push(t);
      return t;
    };
    const connect = after(timeouts.connectMs, `no connection within ${seconds(timeouts.connectMs)}`);
    after(timeouts.responseMs, `no answer within ${seconds(timeouts.responseMs)}`);
    req.on('socket', (socket) => {
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(connect));
    });
    req.on('error', (err: NodeJS.ErrnoException) => fail(oneLine(err.code ? `${err.code}: ${err.message}` : err.message)));
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      let kept = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (kept.length < KEEP_BODY) kept += d.slice(0, KEEP_BODY - kept.length);
      });
      res.on('error', (err) => fail(oneLine(err.message)));
      res.on('end', () => {
        if (status >= 200 && status < 300) return finish({ ok: true, status, error: null, retry: false });
        const retry = status === 408 || status === 429 || status >= 500;
        const why = status >= 300 && status < 400 ? ' (redirects are not followed)' : kept.trim() ? `: ${oneLine(kept)}` : '';
        finish({ ok: false, status, error: `HTTP ${status}${why}`, retry });
      });
    });
    req.end(body);
  });
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function oneLine(s: string): string {
  return s
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .trim()
    .slice(0, KEEP_BODY);
}
