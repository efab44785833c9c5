/**
 * The CLI as a user meets it (the built CLI in a child process): usage errors are one line and
 * exit status 2 in every command (1 keeps its meaning: "skipped" for rules, "they differ" for
 * diff), --help exits 0, and a missing input or output file is a one-line E_INPUT / E_OUTPUT
 * error in every command, never a Node.js stack.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runKproxy } from '../helpers/cli.js';
import { repoPath } from '../helpers/paths.js';

const DUMP = repoPath('test/fixtures/dumps/nginx-current.legacy.save.txt');
const MANIFESTS = repoPath('examples/article-nginx-endpoints.yaml');
const PACKET = ['--src', '10.0.0.1', '--dst', '172.18.255.127:80', '--proto', 'tcp', '--from', 'pod'];

function assertUsageError(args: readonly string[], command: string, message: RegExp): void {
  const r = runKproxy(args);
  assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line, no help dump: ${r.stderr}`);
  assert.match(lines[0] ?? '', message);
  assert.ok((lines[0] ?? '').endsWith(`(see ${['kproxy', command].filter((w) => w !== '').join(' ')} --help)`), lines[0]);
  assert.ok((lines[0] ?? '').startsWith('kproxy: '), lines[0]);
}

test('usage errors print one line and exit 2, whatever the command', () => {
  assertUsageError(['rules', '--bogus', '-f', MANIFESTS], 'rules', /unknown option '--bogus'/);
  assertUsageError(['rules', '--ip-family', 'ipv5', '-f', MANIFESTS], 'rules', /'ipv5' is invalid/);
  assertUsageError(['diff', '-f', MANIFESTS, '--rules', DUMP, '--format', 'ancient'], 'diff', /'ancient' is invalid/);
  assertUsageError(['explain'], 'explain', /missing required argument 'dump'/);
  assertUsageError(['trace', '--rules', DUMP, ...PACKET.slice(0, 6), '--from', 'mars'], 'trace', /'mars' is invalid/);
  assertUsageError(['graph', DUMP, '--out'], 'graph', /'--out <file>' argument missing/);
  assertUsageError(['sandbox', 'scale', 'nginx'], 'sandbox scale', /missing required argument 'replicas'/);
  assertUsageError(['run', '--logging-format', 'xml'], 'run', /'xml' is invalid/);
  assertUsageError(['frobnicate'], '', /unknown command 'frobnicate'/);
});

test('--help exits 0 with the help on stdout', () => {
  for (const args of [['--help'], ['rules', '--help'], ['sandbox', 'scale', '--help'], ['help', 'diff']]) {
    const r = runKproxy(args);
    assert.equal(r.status, 0, args.join(' '));
    assert.match(r.stdout, /^Usage: kproxy/);
    assert.equal(r.stderr, '');
  }
});

test('a missing input or output file is one E_INPUT / E_OUTPUT line in every command, never a stack', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kproxy-cli-'));
  const missing = path.join(dir, 'nonexist');
  const cases: [string[], string][] = [
    [['explain', missing], `${missing}: no such file or directory [E_INPUT]`],
    [['trace', '--rules', missing, ...PACKET], `${missing}: no such file or directory [E_INPUT]`],
    [['trace', '--rules', DUMP, '--ipset', missing, ...PACKET], `${missing}: no such file or directory [E_INPUT]`],
    [['diff', '-f', MANIFESTS, '--rules', missing], `${missing}: no such file or directory [E_INPUT]`],
    [['graph', missing, '--out', path.join(dir, 'g.svg')], `${missing}: no such file or directory [E_INPUT]`],
    [['graph', DUMP, '--out', path.join(missing, 'g.svg')], `${path.join(missing, 'g.svg')}: no such file or directory [E_OUTPUT]`],
    [['rules', '-f', missing], `${missing}: no such file or directory [E_INPUT]`],
    [['rules', '--config', missing, '-f', MANIFESTS], `${missing}: no such file or directory [E_INPUT]`],
    [['rules', '--kubeconfig', missing], `${missing}: no such file or directory [E_INPUT]`],
    [['sandbox', 'up', '-f', missing, '--state-dir', dir], `${missing}: no such file or directory [E_INPUT]`],
    [['explain', dir], `${dir}: is a directory [E_INPUT]`],
    [['run', '--write-config-to', path.join(missing, 'c.yaml')], `${path.join(missing, 'c.yaml')}: no such file or directory [E_OUTPUT]`],
  ];
  for (const [args, message] of cases) {
    const r = runKproxy(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').at(-1), `kproxy: ${message}`, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('kubeadm\'s config.conf, verbatim, on the command line: rules render as with the equivalent flags', () => {
  const conf = repoPath('test/fixtures/config/kubeadm-v1.31.config.conf');
  const fromFile = runKproxy(['rules', '--config', conf, '--hostname-override', 'node-1', '-f', MANIFESTS]);
  assert.equal(fromFile.status, 0, fromFile.stderr);
  assert.equal(fromFile.stderr, '');
  const fromFlags = runKproxy(['rules', '--cluster-cidr', '10.244.0.0/16', '--hostname-override', 'node-1', '-f', MANIFESTS]);
  assert.equal(fromFile.stdout, fromFlags.stdout);
  assert.match(fromFile.stdout, /-d 172\.18\.255\.127 --dport 80 ! -s 10\.244\.0\.0\/16 -j KUBE-MARK-MASQ/, 'clusterCIDR from the file');

  const dir = mkdtempSync(path.join(tmpdir(), 'kproxy-cli-'));
  const written = path.join(dir, 'effective.yaml');
  const run = runKproxy(['run', `--config=${conf}`, '--hostname-override=node-1', '--write-config-to', written]);
  assert.equal(run.status, 0, run.stderr);
  const text = readFileSync(written, 'utf8');
  for (const line of ['configSyncPeriod: 15m0s', 'healthzBindAddress: 0.0.0.0:10256', 'metricsBindAddress: 127.0.0.1:10249', 'oomScoreAdj: -999', 'hostnameOverride: node-1']) {
    assert.match(text, new RegExp(`^${line.replace(/[.]/g, '\\.')}$`, 'm'));
  }
});

test('with --config, only --hostname-override, --master and --logging-format apply; the other flags are named in one warning', () => {
  const conf = repoPath('test/fixtures/config/kubeadm-v1.31.config.conf');
  const dir = mkdtempSync(path.join(tmpdir(), 'kproxy-cli-'));
  const written = path.join(dir, 'effective.yaml');
  const r = runKproxy([
    'run', '--config', conf, '--write-config-to', written, '--hostname-override', 'Node-7', '--logging-format', 'json',
    '--iptables-sync-period', '5s', '--kubeconfig', '/elsewhere', '--masquerade-all', '--healthz-bind-address', '127.0.0.1:1',
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    /^flags: --healthz-bind-address, --iptables-sync-period, --kubeconfig, --masquerade-all: warning: ignored because --config .* is given \(as kube-proxy does\)$/m,
  );
  const text = readFileSync(written, 'utf8');
  assert.match(text, /^hostnameOverride: node-7$/m);
  assert.match(text, /^ {2}format: json$/m, 'the logging flag wins over the file');
  assert.match(text, /^ {2}syncPeriod: 30s$/m);
  assert.match(text, /^ {2}kubeconfig: \/var\/lib\/kube-proxy\/kubeconfig\.conf$/m);
  assert.match(text, /^healthzBindAddress: 0\.0\.0\.0:10256$/m);
});

test('the help and every doc state one precedence between --config and the flags', () => {
  const flat = (text: string): string => text.replace(/\s+/g, ' ');
  for (const cmd of ['rules', 'run', 'trace']) {
    const help = flat(runKproxy([cmd, '--help']).stdout);
    assert.match(help, /only --hostname-override, --master and --logging-format still apply/, `${cmd} --help`);
  }
  for (const doc of ['README.md', 'docs/kubernetes.md', 'docs/iptables.md']) {
    const text = flat(readFileSync(repoPath(doc), 'utf8'));
    assert.match(text, /only `--hostname-override`, `--master` and `--logging-format` still apply/, doc);
    assert.doesNotMatch(text, /except `?--hostname-override/, doc);
  }
});
