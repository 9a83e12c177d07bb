import http from 'node:http';
import type { UpstreamAgent } from './upstream-agent.js';

/**
 * Every request the proxy sends to a target, a proxied one (edge/upstream-exchange.ts) or a
 * health check (routing/health-check.ts), is made here: by this one object literal, through an
 * UpstreamAgent, with the headers as a flat [name, value, ...] array and upstream responses read
 * leniently (as nginx reads them).
 *
 * One shape matters for speed. Node's http client copies the options object more than once per
 * request (ClientRequest, then Agent.addRequest spreads it with the agent's own options), and V8
 * keeps those copies fast only while it sees one shape of options and one class of agent. Health
 * checks made with `http.get({ ..., agent: false })` fed every proxy process a second shape every
 * 100 ms, and the proxied requests paid for it: 1.5-2.7% more CPU a request in three of four A/Bs
 * (none in the fourth; docs/benchmarks.md, session 14), most of it in `addRequest`'s spread.
 */
export function upstreamRequest(
  agent: UpstreamAgent,
  host: string,
  port: number,
  method: string,
  path: string,
  headers: readonly string[],
): http.ClientRequest {
  return http.request({
    host,
    port,
    method,
    path,
    headers: headers as unknown as http.OutgoingHttpHeaders,
    agent,
    insecureHTTPParser: true,
    setHost: false,
  });
}
