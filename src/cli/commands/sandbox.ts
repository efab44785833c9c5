/**
 * `kproxy sandbox up|down|status|scale|delete-pod`: a small cluster in network namespaces on
 * this machine's kernel (see shared SANDBOX.md), whose state the proxy reads as manifests.
 */
import type { Command } from 'commander';
import { KproxyError } from '../../core/errors.js';
import { DiagnosticSink, formatDiagnostic, type Diagnostic } from '../../core/model/diagnostics.js';
import { loadClusterObjects } from '../../runtime/sources/files.js';
import {
  createSandbox,
  openSandbox,
  removeAllSandboxes,
  removeSandbox,
  sandboxStatuses,
  type DownReport,
  type Sandbox,
  type SandboxChange,
  type SandboxStatus,
} from '../../runtime/sandbox/index.js';
import { collectRepeated } from '../options/repeatable.js';

interface CommonOptions {
  readonly name: string;
  readonly stateDir?: string;
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function err(line: string): void {
  process.stderr.write(`${line}\n`);
}

function positiveInt(value: string, what: string, min: number): number {
  if (!/^\d+$/.test(value) || Number.parseInt(value, 10) < min) {
    throw new KproxyError('E_USAGE', `${what} must be a whole number >= ${min}, not "${value}"`);
  }
  return Number.parseInt(value, 10);
}

function seconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new KproxyError('E_USAGE', `--grace must be a number of seconds >= 0, not "${value}"`);
  }
  return n;
}

/** Fields left unset for an API server to fill in: the sandbox fills them, so no need to warn. */
function allocatedBySandbox(d: Diagnostic): boolean {
  return (
    d.kind === 'Service' &&
    d.message.startsWith('not set') &&
    (d.field === 'spec.clusterIP' || d.field === 'spec.healthCheckNodePort' || /^spec\.ports\[\d+\]\.nodePort$/.test(d.field))
  );
}

function rootOf(o: CommonOptions): { stateRoot?: string } {
  return o.stateDir === undefined ? {} : { stateRoot: o.stateDir };
}

function describeSandbox(sb: Sandbox): void {
  const s = sb.state;
  out(`sandbox "${s.name}" (run ${s.id})`);
  out(`  manifests: ${sb.manifestFile}`);
  out(`  external:  ${s.externalNetns} (${s.externalAddress})`);
  for (const n of s.nodes) out(`  node ${n.name}: ${n.netns} address ${n.address} podCIDR ${n.podCIDR}`);
  for (const p of s.pods) {
    out(`  pod ${p.namespace}/${p.name}${p.role === 'client' ? ' (client)' : ''}: ${p.ip} on ${p.nodeName}, ${p.netns}${p.pid === null ? '' : `, pid ${p.pid}`}`);
  }
  for (const svc of s.services) {
    const ports = svc.ports.map((p) => `${p.port}/${p.protocol}${p.nodePort === 0 ? '' : `:${p.nodePort}`}`).join(',');
    const lb = svc.loadBalancerIngress.map((i) => i.ip).filter((ip) => ip !== '');
    out(`  service ${svc.meta.namespace}/${svc.meta.name}: ${svc.type} ${svc.clusterIP} ${ports}${lb.length > 0 ? ` lb ${lb.join(',')}` : ''}`);
  }
  for (const note of s.notes) out(`  note: ${note}`);
  if (s.nodes.length > 0) out(s.nodes.length === 1 ? `run the proxy on ${s.nodes[0]?.name ?? ''} with:` : 'run the proxy on each node with:');
  for (const n of s.nodes) {
    out(`  kproxy run --proxy-mode iptables -f ${sb.manifestsDir} --netns ${n.netns} --hostname-override ${n.name}`);
  }
}

function printDown(report: DownReport): void {
  if (report.removed.length === 0) {
    out('nothing to remove');
    return;
  }
  for (const r of report.removed) {
    out(`removed ${r.name === null ? 'leftovers of' : `sandbox "${r.name}",`} run ${r.id}: ${r.namespaces.length} namespace(s), ${r.killed.length} process(es)`);
  }
}

function printStatus(s: SandboxStatus): void {
  out(`sandbox "${s.name}" run ${s.id} ${s.phase}${s.alive ? '' : ' (dead: remove it with `kproxy sandbox down`)'}`);
  out(`  manifests: ${s.manifestFile}`);
  out(`  external:  ${s.externalNetns}`);
  for (const n of s.nodes) out(`  node ${n.name}: ${n.netns} ${n.address} podCIDR ${n.podCIDR}`);
  for (const p of s.pods) {
    const proc = p.pid === null ? '' : ` pid ${p.pid}${p.running ? '' : ' (not running)'}`;
    const until = p.deletionDeadline === null ? '' : ` until ${p.deletionDeadline}`;
    out(`  pod ${p.namespace}/${p.name}: ${p.ip} ${p.node} ${p.phase}${until}${proc}`);
  }
  for (const svc of s.services) {
    const ports = svc.ports.map((p) => `${p.port}/${p.protocol}${p.nodePort === 0 ? '' : `:${p.nodePort}`}`).join(',');
    out(`  service ${svc.name}: ${svc.type} ${svc.clusterIP} ${ports}${svc.loadBalancerIPs.length > 0 ? ` lb ${svc.loadBalancerIPs.join(',')}` : ''}`);
  }
  out(`  namespaces present: ${s.namespaces.length}`);
}

/** What `scale` and `delete-pod` say in their help about waiting. */
const GRACE_HELP =
  'The command waits for the grace period of the removed pods (default 30 s; --grace 0 removes them at once), ' +
  'during which they stay serving and terminating in their EndpointSlice; interrupted, it leaves them terminating ' +
  'until a later sandbox change, past their deadline, removes them.';

async function waitForTermination(change: SandboxChange, grace: number): Promise<void> {
  if (change.added.length > 0) out(`ready: ${change.added.join(', ')}`);
  if (change.terminating.length === 0) return;
  out(`terminating: ${change.terminating.join(', ')} (removed in ${grace} s)`);
  if (grace > 0) err(`kproxy: waiting ${grace} s for the grace period of ${change.terminating.join(', ')} (--grace 0 removes pods at once)`);
  await change.finished;
  out(`removed: ${change.terminating.join(', ')}`);
}

export function registerSandboxCommand(program: Command): void {
  const sandbox = program
    .command('sandbox')
    .description('a small cluster in network namespaces on this kernel (nodes, pods, an external client)');
  const common = (cmd: Command): Command =>
    cmd
      .option('--name <name>', 'sandbox name', 'default')
      .option('--state-dir <dir>', 'directory of sandbox states (default $KPROXY_SANDBOX_DIR or /run/kproxy-sandbox)');

  common(sandbox.command('up'))
    .description('build a sandbox from manifests (Deployments, Pods, Services) and publish its cluster state')
    .requiredOption('-f, --filename <path>', 'manifest file or folder (repeatable; - for stdin)', collectRepeated)
    .option('--nodes <n>', 'number of nodes', '1')
    .action(async (o: CommonOptions & { filename: string[]; nodes: string }) => {
      const sink = new DiagnosticSink();
      const objects = await loadClusterObjects(o.filename, sink, { deploymentsExpanded: true });
      for (const d of sink.all) if (!allocatedBySandbox(d)) err(formatDiagnostic(d));
      if (objects.deployments.length + objects.pods.length + objects.services.length === 0) {
        throw new KproxyError('E_INPUT', `${o.filename.join(', ')}: no Deployment, Pod or Service to build a sandbox from`);
      }
      const sb = await createSandbox(objects, {
        name: o.name,
        nodes: positiveInt(o.nodes, '--nodes', 1),
        ...rootOf(o),
        onProgress: (m) => err(`kproxy: ${m}`),
      });
      sb.detach();
      describeSandbox(sb);
    });

  common(sandbox.command('down'))
    .description('remove a sandbox (namespaces, interfaces, processes, state) and leftovers of crashed runs')
    .option('--all', 'remove every sandbox')
    .action(async (o: CommonOptions & { all?: boolean }) => {
      printDown(o.all === true ? await removeAllSandboxes(rootOf(o)) : await removeSandbox(o.name, rootOf(o)));
    });

  sandbox
    .command('status')
    .description('list the sandboxes: namespaces, pods (IPs, pids), services')
    .option('--json', 'print JSON')
    .option('--state-dir <dir>', 'directory of sandbox states')
    .action(async (o: { json?: boolean; stateDir?: string }) => {
      const report = await sandboxStatuses(o.stateDir === undefined ? {} : { stateRoot: o.stateDir });
      if (o.json === true) {
        out(JSON.stringify(report, null, 2));
        return;
      }
      if (report.sandboxes.length === 0) out(`no sandbox in ${report.stateRoot}`);
      for (const s of report.sandboxes) printStatus(s);
      if (report.leftovers.length > 0) out(`leftovers of crashed runs (removed by \`kproxy sandbox down\`): ${report.leftovers.join(' ')}`);
    });

  common(sandbox.command('scale'))
    .description(`set the replicas of a Deployment (new pods join when listening; removed ones terminate). ${GRACE_HELP}`)
    .argument('<deployment>')
    .argument('<replicas>')
    .option('-n, --namespace <ns>', 'namespace of the Deployment', 'default')
    .option('--grace <seconds>', 'grace period of removed pods, waited for before the command returns', '30')
    .action(async (deployment: string, replicas: string, o: CommonOptions & { namespace: string; grace: string }) => {
      const grace = seconds(o.grace);
      const sb = await openSandbox(o.name, rootOf(o));
      const change = await sb.scale(deployment, positiveInt(replicas, 'replicas', 0), { namespace: o.namespace, graceSeconds: grace });
      await waitForTermination(change, grace);
    });

  common(sandbox.command('delete-pod'))
    .description(`delete a pod: terminating (serving) for the grace period, then removed. ${GRACE_HELP}`)
    .argument('<pod>')
    .option('-n, --namespace <ns>', 'namespace of the pod', 'default')
    .option('--grace <seconds>', 'grace period, waited for before the command returns', '30')
    .option('--no-replace', "do not replace a Deployment's pod (by default its ReplicaSet would)")
    .action(async (pod: string, o: CommonOptions & { namespace: string; grace: string; replace: boolean }) => {
      const grace = seconds(o.grace);
      const sb = await openSandbox(o.name, rootOf(o));
      const change = await sb.deletePod(pod, { namespace: o.namespace, graceSeconds: grace, replace: o.replace });
      await waitForTermination(change, grace);
    });
}
