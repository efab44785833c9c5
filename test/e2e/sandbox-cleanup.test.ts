/**
 * The sandbox across processes and after crashes: the CLI's up / status / scale / delete-pod /
 * down share one sandbox through its state; a run whose process was killed is removed by
 * `down --all`; a run killed in the middle of `up`, and a stray `kpx-` namespace, are removed
 * by any `down` as leftovers — and nothing is left afterwards.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { runCommand } from '../../src/runtime/exec/run.js';
import { listNetns, type StatusReport } from '../../src/runtime/sandbox/index.js';
import { runIdOfNetns } from '../../src/runtime/sandbox/naming.js';
import { listRunIds } from '../../src/runtime/sandbox/store.js';
import { assertRunGone, requireKernel, tempStateRoot } from '../helpers/e2e.js';

const execFileAsync = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(here, '../../src/cli/main.js');
const SANDBOX_INDEX = pathToFileURL(path.resolve(here, '../../src/runtime/sandbox/index.js')).href;
const DECODE = pathToFileURL(path.resolve(here, '../../src/runtime/sources/files.js')).href;
const MODEL = pathToFileURL(path.resolve(here, '../../src/core/model/diagnostics.js')).href;

const MANIFESTS = `apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: app}}
  template: {metadata: {labels: {app: app}}, spec: {containers: [{name: c}]}}
---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: default}
spec:
  type: NodePort
  selector: {app: app}
  ports: [{port: 80, protocol: TCP, targetPort: 80}]
`;

let root = '';
let manifestPath = '';
let removeRoot: () => Promise<void> = () => Promise.resolve();
before(async () => {
  ({ root, remove: removeRoot } = await tempStateRoot());
  manifestPath = path.join(root, 'app.yaml');
  await writeFile(manifestPath, MANIFESTS);
});
after(async () => {
  await removeRoot();
});

async function kproxyOutputs(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return execFileAsync(process.execPath, [CLI, 'sandbox', ...args, '--state-dir', root]);
}

async function kproxy(...args: string[]): Promise<string> {
  return (await kproxyOutputs(...args)).stdout;
}

async function status(): Promise<StatusReport> {
  return JSON.parse(await kproxy('status', '--json')) as StatusReport;
}

/** Runs a module in a child process that builds a sandbox and then kills itself with SIGKILL. */
async function crashingChild(name: string, when: 'after-up' | 'during-up'): Promise<void> {
  const script = `
    import { createSandbox } from ${JSON.stringify(SANDBOX_INDEX)};
    import { loadClusterObjects } from ${JSON.stringify(DECODE)};
    import { DiagnosticSink } from ${JSON.stringify(MODEL)};
    const objects = await loadClusterObjects([${JSON.stringify(manifestPath)}], new DiagnosticSink());
    const crash = () => process.kill(process.pid, 'SIGKILL');
    await createSandbox(objects, {
      name: ${JSON.stringify(name)},
      stateRoot: ${JSON.stringify(root)},
      onProgress: (m) => { if (${JSON.stringify(when)} === 'during-up' && m.includes('pod(s)')) crash(); },
    });
    crash();
  `;
  const r = await runCommand([process.execPath, '--input-type=module', '-e', script], { allowFailure: true, timeoutMs: 20_000 });
  assert.equal(r.signal, 'SIGKILL', `the child crashed as planned (stderr: ${r.stderr})`);
}

describe('sandbox across processes and crashes (real kernel)', () => {
  it('CLI: up, status, scale, delete-pod, down share one sandbox; down leaves nothing', async (t) => {
    if (!requireKernel(t)) return;
    const up = await kproxyOutputs('up', '-f', manifestPath, '--name', 'cli', '--nodes', '2');
    const upOut = up.stdout;
    assert.doesNotMatch(up.stderr, /does not run Deployments/, 'the sandbox runs them: no note about them');
    assert.match(upOut, /pod default\/app-0: 172\.18\.0\.5 on node-1/);
    assert.match(upOut, /service default\/app: NodePort 172\.18\.255\.10 80\/TCP:30000/);
    let report = await status();
    const sb = report.sandboxes.find((s) => s.name === 'cli');
    assert.ok(sb, 'status lists the sandbox');
    assert.equal(sb.alive, true);
    assert.equal(sb.namespaces.length, 7, 'external + 2 nodes + 2 pods + 2 client pods');
    const pids = sb.pods.flatMap((p) => (p.pid === null ? [] : [p.pid]));
    assert.equal(pids.length, 2);
    assert.ok(sb.pods.every((p) => p.role === 'client' || p.running));

    const scaleOut = await kproxy('scale', 'app', '3', '--name', 'cli');
    assert.match(scaleOut, /ready: app-2/);
    const del = await kproxyOutputs('delete-pod', 'app-0', '--grace', '0.2', '--no-replace', '--name', 'cli');
    const delOut = del.stdout;
    assert.match(del.stderr, /^kproxy: waiting 0\.2 s for the grace period of app-0/m, 'a progress line while it waits');
    assert.match(delOut, /terminating: app-0/);
    assert.match(delOut, /removed: app-0/);
    report = await status();
    const later = report.sandboxes.find((s) => s.name === 'cli');
    assert.deepEqual(later?.pods.filter((p) => p.role === 'workload').map((p) => p.name).sort(), ['app-1', 'app-2']);
    pids.push(...later.pods.flatMap((p) => (p.pid === null ? [] : [p.pid])));

    const downOut = await kproxy('down', '--name', 'cli');
    assert.match(downOut, /removed sandbox "cli"/);
    await assertRunGone(sb.id, pids);
    assert.deepEqual((await status()).sandboxes, []);
  });

  it('a process killed after up: down --all removes its sandbox', async (t) => {
    if (!requireKernel(t)) return;
    await crashingChild('crashed', 'after-up');
    const report = await status();
    const crashed = report.sandboxes.find((s) => s.name === 'crashed');
    assert.ok(crashed, 'the crashed sandbox is listed');
    const pids = crashed.pods.flatMap((p) => (p.pid === null ? [] : [p.pid]));
    assert.ok(crashed.namespaces.length > 0 && pids.length === 2);
    await kproxy('down', '--all');
    await assertRunGone(crashed.id, pids);
  });

  it('a process killed during up, and a stray kpx- namespace, are removed by any down', async (t) => {
    if (!requireKernel(t)) return;
    await crashingChild('halfway', 'during-up');
    const report = await status();
    const halfway = report.sandboxes.find((s) => s.name === 'halfway');
    assert.ok(halfway, 'the half-built sandbox is listed');
    assert.equal(halfway.phase, 'creating');
    assert.equal(halfway.alive, false);
    assert.ok(halfway.namespaces.length > 0, 'it left namespaces');
    assert.ok(report.leftovers.some((n) => halfway.namespaces.includes(n)));
    // A run id no sandbox has (the sandboxes of test files running in parallel among them).
    const taken = new Set([...(await listNetns()).map(runIdOfNetns), ...(await listRunIds())]);
    let strayId = randomBytes(3).toString('hex');
    while (taken.has(strayId)) strayId = randomBytes(3).toString('hex');
    const stray = `kpx-${strayId}-node-1`;
    await runCommand(['ip', 'netns', 'add', stray]);
    try {
      // `down` of another (absent) sandbox still removes the leftovers.
      const out = await kproxy('down', '--name', 'absent');
      assert.match(out, /removed leftovers of run/);
    } finally {
      await runCommand(['ip', 'netns', 'del', stray], { allowFailure: true });
    }
    await assertRunGone(halfway.id, halfway.pods.flatMap((p) => (p.pid === null ? [] : [p.pid])));
    assert.ok(!(await listNetns()).includes(stray), 'the stray namespace is removed');
    assert.deepEqual((await status()).sandboxes.filter((s) => s.name === 'halfway'), []);
  });
});
