/**
 * The demo: a one-node sandbox on the real kernel, the proxy daemon in it, traffic from a pod,
 * from the node and from outside, the spread over the pods, the programmed rules; then the
 * sandbox is removed (also on failure and Ctrl-C).
 */
import { KproxyError } from '../../core/errors.js';
import type { ClusterObjects } from '../../core/model/objects.js';
import type { ProxyMode } from '../../core/model/config.js';
import { DEFAULT_HEALTH_PORT, firstSyncDone, inNetns, startDaemon, waitFor, type DaemonHandle } from '../../runtime/daemon-process.js';
import { createSandbox, type Sandbox } from '../../runtime/sandbox/index.js';
import { checkDemoMode } from './offline.js';
import { kubeRulesOf, type DemoReport, type DemoResult } from './report.js';
import { demoTargets, type DemoTarget } from './targets.js';

export interface DemoOptions {
  readonly mode: ProxyMode;
  readonly requests: number;
  readonly progress: (message: string) => void;
}

export interface DemoOutcome {
  readonly report: DemoReport;
  /** Names of the pods that serve (for tables with zero rows). */
  readonly pods: readonly string[];
  /** The KUBE-* lines of `iptables-save` in the node. */
  readonly rules: string;
}

async function sendTraffic(sb: Sandbox, targets: readonly DemoTarget[], opts: DemoOptions): Promise<DemoResult[]> {
  const results: DemoResult[] = [];
  for (const [i, t] of targets.entries()) {
    const netns = t.from === 'pod' ? sb.clientNetns() : t.from === 'node' ? sb.nodeNetns() : sb.externalNetns;
    opts.progress(`[${i + 1}/${targets.length}] ${opts.requests} requests from ${t.from} to ${t.ip}:${t.port} (${t.service})`);
    const send = t.protocol === 'udp' ? sb.udpRequests.bind(sb) : sb.httpRequests.bind(sb);
    const r = await send(netns, t.ip, t.port, { count: opts.requests, concurrency: 4, timeoutMs: 2000 });
    results.push({
      from: t.from,
      target: `${t.ip}:${t.port}`,
      service: t.service,
      requests: r.requests,
      errors: r.errors,
      affinity: t.affinity,
      byPod: r.byPod,
    });
  }
  return results;
}

export async function runDemo(objects: ClusterObjects, opts: DemoOptions): Promise<DemoOutcome> {
  checkDemoMode(opts.mode);
  opts.progress('building the sandbox: a node, its pods and an external client in network namespaces');
  const sb = await createSandbox(objects, { name: `demo-${process.pid}`, nodes: 1, onProgress: (m) => opts.progress(`  ${m}`) });
  let daemon: DaemonHandle | null = null;
  try {
    const node = sb.node();
    const targets = demoTargets(sb.services, node.address);
    if (targets.length === 0) {
      throw new KproxyError('E_INPUT', 'no Service of the manifests can be reached by the demo (headless or SCTP only)');
    }
    opts.progress(`starting kproxy run --proxy-mode ${opts.mode} in ${node.netns}`);
    daemon = startDaemon(node.netns, [
      '--proxy-mode', opts.mode,
      '-f', sb.manifestsDir,
      '--hostname-override', node.name,
      '--node-ip', node.address,
      '--ip-families', 'ipv4',
      '--iptables-min-sync-period', '100ms',
      '--healthz-bind-address', `0.0.0.0:${DEFAULT_HEALTH_PORT}`,
    ]);
    const d = daemon;
    await waitFor(
      'the proxy to program every service',
      async () => {
        if (d.child.exitCode !== null) throw new KproxyError('E_EXEC', `kproxy run exited early:\n${d.logs()}`);
        return firstSyncDone(node.netns);
      },
      20_000,
    );
    opts.progress('rules programmed; sending traffic');
    const results = await sendTraffic(sb, targets, opts);
    const rules = kubeRulesOf(await inNetns(node.netns, ['iptables-save']));
    return { report: { mode: opts.mode, results }, pods: sb.pods.map((p) => p.name), rules };
  } finally {
    opts.progress('removing the sandbox');
    await daemon?.stop();
    await sb.down();
  }
}
