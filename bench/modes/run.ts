/**
 * `npm run bench:modes` — the article's claim measured: the same client, in a pod of a sandbox
 * node, against one pod, (a) directly, (b) through the ClusterIP with kproxy in iptables mode,
 * (c) through the ClusterIP with kproxy in userspace mode. Each target has its own sandbox.
 * Measures requests/s with keep-alive and with a new connection per request (wrk, latency
 * p50/p99), and MB/s of a bulk download (curl). Prints a table, or JSON with --json.
 * Needs root (network namespaces); installs Debian's wrk with apt-get when it is missing.
 */
import os from 'node:os';
import { DEFAULT_HEALTH_PORT, firstSyncDone, startDaemon, waitFor, type DaemonHandle } from '../../src/runtime/daemon-process.js';
import { onPath, runCommand } from '../../src/runtime/exec/index.js';
import { createSandbox, type Sandbox } from '../../src/runtime/sandbox/index.js';
import { decodeObjects } from '../../src/core/k8s/decode.js';
import { DiagnosticSink } from '../../src/core/model/diagnostics.js';
import { parseManifestText } from '../../src/runtime/sources/files.js';
import { measureBulk, measureRequests, type LoadTool, type RequestStats } from './measure.js';

type Target = 'direct' | 'iptables' | 'userspace';
const TARGETS: readonly Target[] = ['direct', 'iptables', 'userspace'];

interface TargetResult {
  readonly target: Target;
  readonly keepAlive: RequestStats;
  readonly newConnection: RequestStats;
  readonly bulkMBps: number;
}

interface Settings {
  /** Length of one request measurement. */
  readonly seconds: number;
  readonly connections: number;
  readonly bulkBytes: number;
  /** Measurements of each kind per target (the median is reported). */
  readonly rounds: number;
}

const MANIFESTS = `apiVersion: apps/v1
kind: Deployment
metadata: {name: bench, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: bench}}
  template:
    metadata: {labels: {app: bench}}
    spec:
      containers: [{name: server, image: kproxy/pod-server, ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: bench, namespace: default}
spec:
  selector: {app: bench}
  ports: [{port: 80, targetPort: 8080}]
`;

const progress = (m: string): void => {
  process.stderr.write(`bench:modes: ${m}\n`);
};

async function loadTool(): Promise<LoadTool> {
  if (onPath('wrk')) return 'wrk';
  if (onPath('apt-get')) {
    progress('installing wrk (Debian package) with apt-get');
    const r = await runCommand(['apt-get', 'install', '-y', '-q', 'wrk'], { allowFailure: true, timeoutMs: 300_000 });
    if (r.exitCode === 0 && onPath('wrk')) return 'wrk';
  }
  progress('wrk is not available: using kproxy\'s own load client (slower; compresses the differences)');
  return 'kproxy-load-client';
}

interface Prepared {
  readonly target: Target;
  readonly sb: Sandbox;
  readonly daemon: DaemonHandle | null;
  readonly netns: string;
  readonly url: { readonly ip: string; readonly port: number };
}

async function prepare(target: Target): Promise<Prepared> {
  const sink = new DiagnosticSink();
  const objects = decodeObjects(parseManifestText(MANIFESTS, 'bench-modes.yaml', sink), sink);
  const sb: Sandbox = await createSandbox(objects, { name: `bench-modes-${target}`, nodes: 1 });
  const node = sb.node();
  const pod = sb.pods[0];
  if (pod === undefined) throw new Error('the bench pod did not start');
  // Tens of thousands of new connections per round would leave the client's ephemeral ports in
  // TIME_WAIT and stall later rounds; these sysctls are per network namespace (the sandbox's own).
  for (const netns of [sb.clientNetns(), node.netns]) {
    await sb.exec(netns, ['sysctl', '-q', '-w', 'net.ipv4.tcp_tw_reuse=1', 'net.ipv4.ip_local_port_range=1024 65000']);
  }
  if (target === 'direct') return { target, sb, daemon: null, netns: sb.clientNetns(), url: { ip: pod.ip, port: 8080 } };
  const d = startDaemon(node.netns, [
    '--proxy-mode', target, '-f', sb.manifestsDir, '--hostname-override', node.name, '--node-ip', node.address,
    '--cluster-cidr', '172.18.0.0/16', '--ip-families', 'ipv4', '--healthz-bind-address', `0.0.0.0:${DEFAULT_HEALTH_PORT}`,
  ]);
  const prepared = { target, sb, daemon: d, netns: sb.clientNetns(), url: { ip: sb.service('bench').clusterIP, port: 80 } };
  await waitFor(`kproxy ${target} to sync`, async () => {
    if (d.child.exitCode !== null) throw new Error(`kproxy run exited:\n${d.logs()}`);
    return firstSyncDone(node.netns);
  }, 20_000);
  return prepared;
}

async function release(p: Prepared): Promise<void> {
  await p.daemon?.stop();
  await p.sb.down();
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function medianStats(runs: readonly RequestStats[]): RequestStats {
  return {
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    errors: runs.reduce((n, r) => n + r.errors, 0),
  };
}

/**
 * The targets are measured in turns (round 1: direct, iptables, userspace; round 2: ...) and each
 * figure is the median of its rounds, so a machine that gets busier or quieter during the run
 * does not favour one target.
 */
async function measureAll(tool: LoadTool, settings: Settings): Promise<TargetResult[]> {
  const prepared: Prepared[] = [];
  try {
    for (const target of TARGETS) {
      progress(`${target}: building its sandbox`);
      prepared.push(await prepare(target));
    }
    const runs = new Map<Target, { keepAlive: RequestStats[]; newConnection: RequestStats[]; bulk: number[] }>();
    for (const p of prepared) {
      runs.set(p.target, { keepAlive: [], newConnection: [], bulk: [] });
      await measureRequests(p.sb, tool, { netns: p.netns, url: p.url, keepAlive: true, connections: settings.connections, seconds: 1 });
    }
    for (let round = 1; round <= settings.rounds; round++) {
      for (const p of prepared) {
        const r = runs.get(p.target);
        if (r === undefined) continue;
        progress(`round ${round}/${settings.rounds}: ${p.target}`);
        const common = { netns: p.netns, url: p.url, connections: settings.connections, seconds: settings.seconds };
        r.keepAlive.push(await measureRequests(p.sb, tool, { ...common, keepAlive: true }));
        r.newConnection.push(await measureRequests(p.sb, tool, { ...common, keepAlive: false }));
        r.bulk.push(await measureBulk(p.sb, p.netns, p.url, settings.bulkBytes, 1));
      }
    }
    return prepared.map((p) => {
      const r = runs.get(p.target);
      if (r === undefined) throw new Error(`no runs for ${p.target}`);
      return { target: p.target, keepAlive: medianStats(r.keepAlive), newConnection: medianStats(r.newConnection), bulkMBps: median(r.bulk) };
    });
  } finally {
    for (const p of prepared) await release(p);
  }
}

function pct(value: number, direct: number): string {
  return direct > 0 ? `${Math.round((value / direct) * 100)}%` : '-';
}

export function formatTable(results: readonly TargetResult[]): string {
  const direct = results.find((r) => r.target === 'direct');
  const head = ['target', 'keep-alive req/s', '(vs direct)', 'p50 ms', 'p99 ms', 'new-conn req/s', '(vs direct)', 'p50 ms', 'p99 ms', 'bulk MB/s', '(vs direct)'];
  const rows = results.map((r) => [
    r.target,
    String(r.keepAlive.requestsPerSecond), pct(r.keepAlive.requestsPerSecond, direct?.keepAlive.requestsPerSecond ?? 0),
    r.keepAlive.p50Ms.toFixed(2), r.keepAlive.p99Ms.toFixed(2),
    String(r.newConnection.requestsPerSecond), pct(r.newConnection.requestsPerSecond, direct?.newConnection.requestsPerSecond ?? 0),
    r.newConnection.p50Ms.toFixed(2), r.newConnection.p99Ms.toFixed(2),
    r.bulkMBps.toFixed(0), pct(r.bulkMBps, direct?.bulkMBps ?? 0),
  ]);
  const lines = [head, head.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:modes needs root (it builds network namespaces)');
  const json = process.argv.includes('--json');
  const settings: Settings = { seconds: 4, connections: 16, bulkBytes: 1024 * 2 ** 20, rounds: 5 };
  const tool = await loadTool();
  const results = await measureAll(tool, settings);
  const report = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '', node: process.version, kernel: os.release() },
    client: tool,
    settings,
    results,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${formatTable(results)}\n\n${JSON.stringify(report)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:modes: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
