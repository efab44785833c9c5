/**
 * The userspace mode without a running proxy (`kproxy rules --proxy-mode userspace`): proxy ports
 * assigned deterministically from the range, and the listener plan written as `#` comment lines
 * (which iptables-restore ignores) above the restore input.
 */
import type { DesiredState } from '../../core/desired/types.js';
import { serializeRuleset } from '../iptables/serialize.js';
import { describeVerdict, planListeners, type Frontend, type ListenerPlan } from './plan.js';
import { PortRangeAllocator, formatPortRange, type PortRange } from './ports.js';
import { renderUserspaceReport, type PortAssignment, type UnknownHostIP, type UserspaceHost } from './render.js';

/** Where offline rendering takes ports from when no --proxy-port-range is given (Linux's default ephemeral range). */
export const OFFLINE_DEFAULT_RANGE: PortRange = { base: 32768, size: 60999 - 32768 + 1 };

/**
 * Ports for the frontends of the plan, allocated next-fit in frontend order; once the range is
 * exhausted the remaining frontends get none (their service ports get no rules, as in the daemon).
 */
export function assignPorts(plan: ListenerPlan, range: PortRange): Map<string, number> {
  const allocator = new PortRangeAllocator(range);
  const out = new Map<string, number>();
  for (const f of plan.frontends) {
    if (allocator.free === 0) break;
    out.set(f.id, allocator.allocate());
  }
  return out;
}

function frontendLine(f: Frontend, port: number | undefined): string {
  const target = f.verdict === 'forward' ? ` -> ${f.endpoints.map((e) => e.endpoint).join(' ') || '(no endpoints)'}` : '';
  const affinity = f.affinity.type === 'ClientIP' ? `, ClientIP affinity ${f.affinity.timeoutSeconds}s` : '';
  return `#   ${String(port ?? '?').padStart(5)}/${f.protocol.toLowerCase()}  ${f.spn} [${f.roles.join(', ')}] ${describeVerdict(f.verdict)}${affinity}${target}`;
}

/** The listener plan as comment lines. */
function describeListeners(plan: ListenerPlan, ports: PortAssignment, header: readonly string[]): string {
  const lines = header.map((h) => `# ${h}`);
  lines.push('# proxy listeners (port/protocol, service port [traffic it receives], what happens to it):');
  for (const f of plan.frontends) lines.push(frontendLine(f, ports.get(f.id)));
  if (plan.frontends.length === 0) lines.push('#   (none)');
  for (const s of plan.skipped) lines.push(`# skipped ${s.spn}: ${s.reason}`);
  const unassigned = plan.frontends.filter((f) => !ports.has(f.id));
  if (unassigned.length > 0) {
    const spns = [...new Set(unassigned.map((f) => f.spn))].join(', ');
    lines.push(`# not proxied (no port left in the range, so no rules): ${spns}`);
  }
  return lines.join('\n') + '\n';
}

export interface OfflineUserspaceOptions {
  /** --proxy-port-range; null when not given. */
  readonly range: PortRange | null;
  readonly host: UserspaceHost;
  /** When host.hostIP is empty: fail (default), or leave the host chains' rules out and say so. */
  readonly unknownHostIP?: UnknownHostIP;
}

export interface OfflineUserspace {
  readonly text: string;
  /** Host-chain rules left out because the node's address is unknown (`unknownHostIP: 'omit'`). */
  readonly omittedHostRules: number;
  readonly omittedServicePorts: readonly string[];
}

function nodeTrafficLine(hostIP: string): string {
  if (hostIP !== '') return `Pods and outside traffic are REDIRECTed to the proxy; the node's own traffic is DNATed to ${hostIP}.`;
  return (
    "Pods and outside traffic are REDIRECTed to the proxy. The node's own traffic is left out: its rules " +
    "(KUBE-PORTALS-HOST, KUBE-NODEPORT-HOST) DNAT to the node's address, which is unknown; give --node-ip or a Node object " +
    "(the daemon takes the address of the host's interface, as kube-proxy did)."
  );
}

/** Everything `rules --proxy-mode userspace` prints: the plan as comments, then the restore input. */
export function offlineUserspaceText(state: DesiredState, options: OfflineUserspaceOptions): string {
  return offlineUserspace(state, options).text;
}

/** offlineUserspaceText, with what was left out for want of the node's address. */
export function offlineUserspace(state: DesiredState, options: OfflineUserspaceOptions): OfflineUserspace {
  const plan = planListeners(state);
  const range = options.range ?? OFFLINE_DEFAULT_RANGE;
  const ports = assignPorts(plan, range);
  const origin =
    options.range === null
      ? `no --proxy-port-range: shown from ${formatPortRange(range)}; the daemon lets the kernel pick each port`
      : `--proxy-port-range ${formatPortRange(range)}`;
  const header = [
    `kproxy userspace mode (${state.family}): proxy ports allocated deterministically (next free port, in listener order), ${origin}.`,
    nodeTrafficLine(options.host.hostIP),
  ];
  const rendered = renderUserspaceReport({ state, plan, ports, host: options.host, unknownHostIP: options.unknownHostIP ?? 'fail' });
  return {
    text: describeListeners(plan, ports, header) + serializeRuleset(rendered.ruleset),
    omittedHostRules: rendered.omittedHostRules,
    omittedServicePorts: rendered.omittedServicePorts,
  };
}
