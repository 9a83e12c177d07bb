import { ProxyErrors } from '../proxy-errors.js';

/** One certificate the proxy can serve: a PEM chain and its PEM private key. */
export interface TlsCert {
  /** stable id chosen by the control plane, e.g. `myapp/custom` */
  id: string;
  cert: string;
  key: string;
}

/** What the proxy does for one host: the certificate it serves, and the HTTP -> HTTPS policy. */
export interface TlsHost {
  cert: string;
  /** plain HTTP answers 308 to https:// (the ACME challenge path excepted) */
  redirect: boolean;
  /** HTTPS responses carry Strict-Transport-Security */
  hsts: boolean;
}

/**
 * Everything TLS the control plane tells the proxy, sent whole on every change: certificates,
 * and for each host the one it serves. Certificates' own wildcard names serve matching hosts
 * that are not listed (SNI: exact host, then wildcard, then the default certificate).
 */
export interface TlsState {
  certs: TlsCert[];
  hosts: Record<string, TlsHost>;
}

export const EMPTY_TLS_STATE: TlsState = Object.freeze({ certs: [], hosts: {} }) as TlsState;

const PEM_CERT = /-----BEGIN CERTIFICATE-----/;
const PEM_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
const HOST = /^(?:\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

function fail(message: string): never {
  throw ProxyErrors.invalidSpec(`TLS state: ${message}`);
}

/** Validates a TLS state from the control API or the state file; throws PAAS_ERR_PROXY_INVALID_SPEC. */
export function parseTlsState(input: unknown): TlsState {
  if (typeof input !== 'object' || input === null) fail('must be an object');
  const { certs, hosts } = input as { certs?: unknown; hosts?: unknown };
  if (!Array.isArray(certs)) fail('certs must be an array');
  if (typeof hosts !== 'object' || hosts === null || Array.isArray(hosts)) fail('hosts must be an object');
  const ids = new Set<string>();
  const outCerts: TlsCert[] = certs.map((c: unknown, i) => {
    const { id, cert, key } = (c ?? {}) as Record<string, unknown>;
    if (typeof id !== 'string' || id === '' || ids.has(id)) fail(`certs[${i}].id must be a unique non-empty string`);
    if (typeof cert !== 'string' || !PEM_CERT.test(cert)) fail(`certs[${i}].cert must be a PEM certificate`);
    if (typeof key !== 'string' || !PEM_KEY.test(key)) fail(`certs[${i}].key must be a PEM private key`);
    ids.add(id);
    return { id, cert, key };
  });
  const outHosts: Record<string, TlsHost> = {};
  for (const [host, h] of Object.entries(hosts as Record<string, unknown>)) {
    if (!HOST.test(host)) fail(`host '${host}' is not a host name`);
    const { cert, redirect, hsts } = (h ?? {}) as Record<string, unknown>;
    if (typeof cert !== 'string' || !ids.has(cert)) fail(`hosts['${host}'].cert must name one of certs`);
    if (typeof redirect !== 'boolean' || typeof hsts !== 'boolean') fail(`hosts['${host}'].redirect and .hsts must be booleans`);
    outHosts[host] = { cert, redirect, hsts };
  }
  return { certs: outCerts, hosts: outHosts };
}
