import { nodeName, type SwarmNode } from './swarm-replica.js';
import { SchedulerErrors } from './scheduler-errors.js';

/** One Swarm placement constraint: `node.labels.tier==web`, `node.role!=manager`. */
export interface Constraint {
  key: string;
  op: '==' | '!=';
  value: string;
  text: string;
}

const KEY_RE =
  /^(node\.id|node\.hostname|node\.role|node\.platform\.os|node\.platform\.arch|node\.labels\.[A-Za-z0-9_.-]+|engine\.labels\.[A-Za-z0-9_.-]+)$/;
const VALUE_RE = /^[A-Za-z0-9_.:/*-]+$/;

/**
 * `EXPR[,EXPR...]` as Swarm constraints, each `KEY==VALUE` or `KEY!=VALUE` with the keys Swarm
 * knows (node.id, node.hostname, node.role, node.platform.os|arch, node.labels.*, engine.labels.*).
 * Throws PAAS_ERR_SCHEDULER_BAD_PLACEMENT naming the part that does not parse.
 */
export function parsePlacement(expr: string): Constraint[] {
  const parts = expr
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0)
    throw SchedulerErrors.badPlacement("placement is empty (give KEY==VALUE, e.g. 'node.labels.tier==web', or 'none')");
  return parts.map((text) => {
    const m = /^([^=!\s]+)\s*(==|!=)\s*(.+)$/.exec(text);
    if (!m) throw SchedulerErrors.badPlacement(`placement '${text}' is not KEY==VALUE or KEY!=VALUE`);
    const [, key = '', op, value = ''] = m;
    if (!KEY_RE.test(key))
      throw SchedulerErrors.badPlacement(
        `placement key '${key}' is not one of node.id, node.hostname, node.role, node.platform.os, node.platform.arch, node.labels.NAME, engine.labels.NAME`,
      );
    if (!VALUE_RE.test(value.trim())) throw SchedulerErrors.badPlacement(`placement value '${value}' has characters Swarm does not accept`);
    if (key === 'node.role' && !['manager', 'worker'].includes(value.trim()))
      throw SchedulerErrors.badPlacement(`node.role is manager or worker, got '${value}'`);
    return { key, op: op as '==' | '!=', value: value.trim(), text: `${key}${op}${value.trim()}` };
  });
}

function nodeValue(n: SwarmNode, key: string): string | undefined {
  if (key === 'node.id') return n.ID;
  if (key === 'node.hostname') return n.Description?.Hostname;
  if (key === 'node.role') return n.Spec?.Role;
  if (key === 'node.platform.os') return n.Description?.Platform?.OS;
  if (key === 'node.platform.arch') return n.Description?.Platform?.Architecture;
  if (key.startsWith('node.labels.')) return n.Spec?.Labels?.[key.slice('node.labels.'.length)];
  return n.Description?.Engine?.Labels?.[key.slice('engine.labels.'.length)];
}

/** Swarm's matching: case-insensitive, `*` nowhere special; a missing label never equals and always differs. */
export function matches(n: SwarmNode, cs: Constraint[]): boolean {
  return cs.every((c) => {
    const v = nodeValue(n, c.key);
    const eq = v !== undefined && v.toLowerCase() === c.value.toLowerCase();
    return c.op === '==' ? eq : !eq;
  });
}

/** The ready, active nodes the constraints allow; none throws PAAS_ERR_SCHEDULER_NO_MATCHING_NODE. */
export function nodesFor(nodes: SwarmNode[], cs: Constraint[]): string[] {
  const usable = nodes.filter((n) => n.Status?.State === 'ready' && (n.Spec?.Availability ?? 'active') === 'active');
  const ok = usable.filter((n) => matches(n, cs));
  if (ok.length === 0)
    throw SchedulerErrors.noMatchingNode(
      `no ready, active node matches placement ${cs.map((c) => c.text).join(',')} (nodes: ${usable.map(nodeName).join(', ') || 'none'}); nothing was changed`,
    );
  return ok.map(nodeName);
}
