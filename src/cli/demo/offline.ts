/**
 * What the demo shows where it cannot run (not root, tools missing): the rules kproxy would
 * program for the sandbox the demo would build — same planning, no kernel.
 */
import { decodeObjects } from '../../core/k8s/decode.js';
import { buildDesiredState } from '../../core/desired/build.js';
import { DEFAULT_PROXY_CONFIG } from '../../core/model/config.js';
import { DiagnosticSink } from '../../core/model/diagnostics.js';
import type { ClusterObjects } from '../../core/model/objects.js';
import { FULL_SYNC } from '../../dataplanes/api.js';
import { FRESH_CURRENT_NODE } from '../../dataplanes/iptables/host.js';
import { renderIptables } from '../../dataplanes/iptables/render.js';
import { serializeRuleset } from '../../dataplanes/iptables/serialize.js';
import { clusterManifests } from '../../runtime/sandbox/manifests.js';
import { planSandbox } from '../../runtime/sandbox/plan.js';

export function offlineRules(objects: ClusterObjects): string {
  const planned = planSandbox(objects, {
    name: 'demo',
    id: '000000',
    stateDir: '/nonexistent',
    ownerPid: 0,
    createdAt: new Date(0).toISOString(),
    nodes: 1,
  });
  const running = { ...planned, pods: planned.pods.map((p) => ({ ...p, phase: 'Running' as const })) };
  const sink = new DiagnosticSink();
  const docs = clusterManifests(running).map((value, i) => ({ source: { file: 'sandbox', document: i + 1 }, value }));
  const cluster = decodeObjects(docs, sink);
  const node = running.nodes[0];
  const config = { ...DEFAULT_PROXY_CONFIG, nodeName: node?.name ?? 'node-1', nodeIPs: node === undefined ? [] : [node.address] };
  const state = buildDesiredState(cluster, config, 'IPv4', sink);
  return serializeRuleset(renderIptables({ state, scope: FULL_SYNC, host: FRESH_CURRENT_NODE }));
}
