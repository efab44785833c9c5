/**
 * `trace -f PATH --proxy-mode userspace`: the rules kube-proxy's userspace mode programs — the
 * portal chains that REDIRECT (or, for the node's own traffic, DNAT) service traffic to the
 * proxy's listeners, with their jumps from the built-in chains — traced like any other rules.
 * The kernel's part ends at the listener; which endpoint the proxy then connects to is decided
 * in its process (round robin), so each listener the trace reaches is described in a note.
 */
import { buildDesiredState } from '../../core/desired/build.js';
import type { DesiredState } from '../../core/desired/types.js';
import type { DiagnosticSink } from '../../core/model/diagnostics.js';
import type { ClusterObjects } from '../../core/model/objects.js';
import { quoteWord, serializeRuleset } from '../../dataplanes/iptables/serialize.js';
import { userspaceJumps } from '../../dataplanes/userspace/jumps.js';
import { OFFLINE_DEFAULT_RANGE, assignPorts } from '../../dataplanes/userspace/offline.js';
import { describeVerdict, planListeners, type Frontend } from '../../dataplanes/userspace/plan.js';
import { proxyPortRange } from '../../dataplanes/userspace/ports.js';
import { renderUserspaceReport } from '../../dataplanes/userspace/render.js';
import type { TraceResult } from '../../tracer/trace.js';
import { unknownNodeAddressWarning, type rulesRequestFromOptions } from './rules.js';


export interface UserspaceTraceRules {
  /** Restore input: the portal rules, then the jumps kube-proxy installs (`-I` prepends, `-A` appends). */
  readonly text: string;
  readonly state: DesiredState;
  /** `tcp/PORT` → the listener on that proxy port. */
  readonly listeners: ReadonlyMap<string, Frontend>;
}

function listenerKey(protocol: string, port: number): string {
  return `${protocol.toLowerCase()}/${port}`;
}

/** The jumps from the built-in chains, as restore lines after the portal rules. */
function jumpText(): string {
  const out: string[] = [];
  for (const table of ['nat', 'filter'] as const) {
    out.push(`*${table}`);
    for (const j of userspaceJumps().filter((x) => x.table === table)) {
      const op = j.position === 'prepend' ? `-I ${j.chain} 1` : `-A ${j.chain}`;
      out.push(`${op} ${j.words.map(quoteWord).join(' ')}`);
    }
    out.push('COMMIT');
  }
  return out.join('\n') + '\n';
}

export function userspaceTraceRules(objects: ClusterObjects, request: ReturnType<typeof rulesRequestFromOptions>, sink: DiagnosticSink): UserspaceTraceRules {
  const config = request.proxy.config;
  const range = proxyPortRange(config.proxyPortRange);
  const state = buildDesiredState(objects, config, request.family, sink);
  const plan = planListeners(state);
  const ports = assignPorts(plan, range ?? OFFLINE_DEFAULT_RANGE);
  const host = { listenIP: request.family === 'IPv6' ? '::' : '0.0.0.0', hostIP: state.nodeIPs[0] ?? '' };
  const listeners = new Map<string, Frontend>();
  for (const f of plan.frontends) {
    const port = ports.get(f.id);
    if (port !== undefined) listeners.set(listenerKey(f.protocol, port), f);
  }
  // As `rules` does: without the node's address only the node's own traffic is left untraceable.
  const rendered = renderUserspaceReport({ state, plan, ports, host, unknownHostIP: 'omit' });
  if (rendered.omittedHostRules > 0) sink.add(unknownNodeAddressWarning(state, rendered.omittedHostRules, rendered.omittedServicePorts));
  const text = serializeRuleset(rendered.ruleset) + jumpText();
  return { text, state, listeners };
}

/** What each proxy listener the trace reaches does with the connection. */
export function listenerNotes(result: TraceResult, protocol: string, listeners: ReadonlyMap<string, Frontend>): string[] {
  const notes: string[] = [];
  for (const { endpoint } of result.distribution) {
    const port = Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
    const f = listeners.get(listenerKey(protocol, port));
    if (f === undefined) continue;
    const affinity = f.affinity.type === 'ClientIP' ? `; ClientIP affinity (${f.affinity.timeoutSeconds}s): a returning client gets its first endpoint again` : '';
    const spread =
      f.verdict === 'forward'
        ? f.endpoints.length === 0
          ? ': no endpoints (the connection is closed)'
          : ` over ${f.endpoints.length} endpoint(s), in turn (round robin, each 1/${f.endpoints.length} of new connections; not at random): ${f.endpoints.map((e) => e.endpoint).join(', ')}`
        : '';
    notes.push(`${endpoint} is the userspace proxy's listener for ${f.spn} [${f.roles.join(', ')}]: ${describeVerdict(f.verdict)}${spread}${affinity}`);
  }
  return notes;
}
