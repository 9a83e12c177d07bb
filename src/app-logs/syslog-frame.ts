import type { LogRecord } from './log-record.js';

/** RFC 5424 header fields: printable US-ASCII without spaces, cut to their maximum length. */
function field(v: string, max: number): string {
  const s = v.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return s || '-';
}

/** RFC 5424 allows at most 6 digits of a second's fraction. */
function syslogTime(t: string): string {
  return t.replace(/\.(\d{1,9})Z$/, (_m, f: string) => `.${f.slice(0, 6)}Z`);
}

/**
 * One RFC 5424 message: facility user (1), severity informational (stdout) or error (stderr);
 * APP-NAME is the app, PROCID the process and replica (`web.1`), MSGID the release (`v12`).
 */
export function syslogMessage(app: string, host: string, r: LogRecord): string {
  const pri = 8 + (r.s === 'e' ? 3 : 6);
  return `<${pri}>1 ${syslogTime(r.t)} ${field(host, 255)} ${field(app, 48)} ${field(`${r.p}.${r.i}`, 128)} v${r.r} - ${r.m}`;
}

/** RFC 6587 octet counting: `<byte length> <message>`, the framing syslog over TCP/TLS (RFC 5425) and logplex use. */
export function octetFrame(message: string): Buffer {
  const body = Buffer.from(message);
  return Buffer.concat([Buffer.from(`${body.length} `), body]);
}
