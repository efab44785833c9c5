/**
 * What the demo shows where it cannot run (not root, tools missing): what kproxy would program
 * in the chosen mode for the sandbox the demo would build — same planning, no kernel.
 */
import { decodeObjects } from '../../core/k8s/decode.js';
import { buildDesiredState } from '../../core/desired/build.js';
import type { DesiredState } from '../../core/desired/types.js';
import { KproxyError } from '../../core/errors.js';
import { DEFAULT_PROXY_CONFIG, type ProxyMode } from '../../core/model/config.js';
import { DiagnosticSink } from '../../core/model/diagnostics.js';
import type { ClusterObjects } from '../../core/model/objects.js';
import { FULL_SYNC } from '../../dataplanes/api.js';
import { FRESH_CURRENT_NODE } from '../../dataplanes/iptables/host.js';
import { renderIptables } from '../../dataplanes/iptables/render.js';
import { serializeRuleset } from '../../dataplanes/iptables/serialize.js';
import { offlineUserspaceText } from '../../dataplanes/userspace/offline.js';
import { allPodsRunning } from '../../runtime/sandbox/changes.js';
import { clusterManifests } from '../../runtime/sandbox/manifests.js';
import { planSandbox } from '../../runtime/sandbox/plan.js';

/** The modes the demo runs (and can show offline). */
export type DemoMode = Extract<ProxyMode, 'iptables' | 'userspace'>;

export function checkDemoMode(mode: ProxyMode): DemoMode {
  switch (mode) {
    case 'iptables':
    case 'userspace':
      return mode;
    case 'nftables':
    case 'ipvs':
      throw new KproxyError('E_UNSUPPORTED', `demo --mode ${mode}: this mode is not available yet (iptables and userspace only)`);
  }
}

export interface OfflineDemo {
  /** What the text holds, for the sentence above it. */
  readonly what: string;
  readonly text: string;
}

/** The desired state of the demo's one node, as the sandbox would build it. */
function sandboxNodeState(objects: ClusterObjects, mode: DemoMode): DesiredState {
  const planned = planSandbox(objects, {
    name: 'demo',
    id: '000000',
    stateDir: '/nonexistent',
    ownerPid: 0,
    createdAt: new Date(0).toISOString(),
    nodes: 1,
  });
  const running = allPodsRunning(planned);
  const sink = new DiagnosticSink();
  const docs = clusterManifests(running).map((value, i) => ({ source: { file: 'sandbox', document: i + 1 }, value }));
  const cluster = decodeObjects(docs, sink);
  const node = running.nodes[0];
  const config = { ...DEFAULT_PROXY_CONFIG, mode, nodeName: node?.name ?? 'node-1', nodeIPs: node === undefined ? [] : [node.address] };
  return buildDesiredState(cluster, config, 'IPv4', sink);
}

/** What the demo's daemon would program on the node in this mode (IPv4, as the demo runs it). */
export function offlineDemo(objects: ClusterObjects, mode: DemoMode): OfflineDemo {
  const state = sandboxNodeState(objects, mode);
  switch (mode) {
    case 'iptables':
      return {
        what: 'the iptables-restore input',
        text: serializeRuleset(renderIptables({ state, scope: FULL_SYNC, host: FRESH_CURRENT_NODE })),
      };
    case 'userspace':
      return {
        what: "the proxy's listeners as '#' lines, then the iptables-restore input of its portal rules",
        text: offlineUserspaceText(state, { range: null, host: { listenIP: '0.0.0.0', hostIP: state.nodeIPs[0] ?? '' } }),
      };
  }
}
