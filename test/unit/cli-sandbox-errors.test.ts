/**
 * The sandbox, demo, run and cleanup commands as a user meets them when something is wrong:
 * manifests with nothing to build, a --netns that does not exist, and — run as an unprivileged
 * user — one clear "needs root" line that changes nothing (a `down` without root must never take
 * other users' live sandboxes for leftovers).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { CLI_MAIN } from '../../src/runtime/daemon-process.js';
import { requireKernel } from '../helpers/e2e.js';
import { runKproxy } from '../helpers/cli.js';
import { repoPath } from '../helpers/paths.js';

const dir = mkdtempSync(path.join(tmpdir(), 'kproxy-cli-sandbox-errors-'));
chmodSync(dir, 0o755);
const NOTHING = path.join(dir, 'nothing.yaml');
writeFileSync(NOTHING, 'this: is: not yaml\n');
const NO_SERVICE = path.join(dir, 'no-service.yaml');
writeFileSync(NO_SERVICE, 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {a: b}}\nspec: {containers: [{name: c}]}\n');
const STATE = path.join(dir, 'state');
after(() => rmSync(dir, { recursive: true, force: true }));

function lastLine(stderr: string): string {
  return stderr.trim().split('\n').at(-1) ?? '';
}

test('sandbox up with manifests that hold nothing to build: one E_INPUT line, no sandbox', () => {
  const r = runKproxy(['sandbox', 'up', '-f', NOTHING, '--name', 'nothing', '--state-dir', STATE]);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /YAML syntax error/, 'the reason is shown first');
  assert.equal(lastLine(r.stderr), `kproxy: ${NOTHING}: no Deployment, Pod or Service to build a sandbox from [E_INPUT]`);
});

test('demo -f with no Service: one E_INPUT line before any sandbox is made', () => {
  const r = runKproxy(['demo', '-f', NO_SERVICE]);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(lastLine(r.stderr), `kproxy: ${NO_SERVICE}: no Service, so the demo has nothing to send traffic to [E_INPUT]`);
  assert.doesNotMatch(r.stderr, /building the sandbox/);
});

test('run -f with a path that does not exist stops at once with one E_INPUT line (no daemon left retrying)', () => {
  const missing = path.join(dir, 'nonexist');
  const r = runKproxy(['run', '-f', NO_SERVICE, '-f', missing, '--healthz-bind-address', '', '--metrics-bind-address', '']);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr, `kproxy: ${missing}: no such file or directory [E_INPUT]\n`);
});

test('run and cleanup with a --netns that does not exist say so, in their own words', (t) => {
  // Without root, --netns stops at "needs root" first (tested below).
  if (!requireKernel(t)) return;
  for (const args of [['cleanup'], ['run', '-f', NO_SERVICE]]) {
    const r = runKproxy([...args, '--netns', 'kpx-000000-missing']);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr, 'kproxy: --netns: there is no network namespace "kpx-000000-missing" (see `ip netns list`) [E_USAGE]\n');
  }
});

test('without root: sandbox down/scale/up, run, run --netns and cleanup stop at one clear line', (t) => {
  // Root, to run the CLI as an unprivileged user with setpriv.
  if (!requireKernel(t, ['setpriv'])) return;
  const asNobody = (args: readonly string[]): { status: number | null; stdout: string; stderr: string } => {
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI_MAIN, ...args], {
      encoding: 'utf8',
      cwd: dir,
      timeout: 30_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const cases: [readonly string[], RegExp][] = [
    [['sandbox', 'down', '--state-dir', STATE], /^kproxy: removing a sandbox needs root/],
    [['sandbox', 'down', '--all', '--state-dir', STATE], /^kproxy: removing sandboxes needs root/],
    [['sandbox', 'scale', 'web', '2', '--state-dir', STATE], /^kproxy: using sandbox "default" needs root/],
    [['sandbox', 'up', '-f', repoPath('examples/article-nginx.yaml'), '--state-dir', STATE], /^kproxy: building a sandbox needs root/],
    [['run', '-f', NO_SERVICE], /^kproxy: run --proxy-mode iptables needs CAP_NET_ADMIN \(run it as root\)/],
    [['run', '-f', NO_SERVICE, '--netns', 'kpx-000000-node-1'], /^kproxy: --netns kpx-000000-node-1 needs root/],
    [['cleanup'], /^kproxy: cleanup needs CAP_NET_ADMIN/],
  ];
  for (const [args, message] of cases) {
    const r = asNobody(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, `${args.join(' ')}: one line: ${r.stderr}`);
    assert.match(lines[0] ?? '', message);
  }
});
