/** `kproxy rules` as a user runs it: the built CLI in a child process. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runKproxy as kproxy } from '../helpers/cli.js';
import { repoPath } from '../helpers/paths.js';

const ARTICLE = repoPath('examples/article-nginx-endpoints.yaml');

test('rules prints only the restore input, exit 0', () => {
  const r = kproxy(['rules', '--mode', 'iptables', '-f', ARTICLE, '--hostname-override', 'node-1']);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^\*filter\n/);
  assert.match(r.stdout, /COMMIT\n$/);
  assert.match(r.stdout, /-A KUBE-SVC-2CMXP7HKUVJN7L6M -m comment --comment "default\/nginx -> 172.18.0.5:80" -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-QLIJNPST3ICX5TJY\n/);
  assert.match(r.stdout, /--probability 0.5000000000 -j KUBE-SEP-GLPL34GQHSYFHR3G\n/);
  assert.match(r.stdout, /-j KUBE-SEP-HI2F4S4VJRUG452O\n/);
});

test('rules --format legacy gives the article\'s names', () => {
  const r = kproxy(['rules', '--format', 'legacy', '-f', ARTICLE]);
  assert.equal(r.status, 0);
  for (const name of ['KUBE-SVC-4N57TFCL4MD7ZTDA', 'KUBE-SEP-G4A7DIXDTUZ6AHE3', 'KUBE-SEP-J5YCYOGHESVN34H2', 'KUBE-SEP-TPLSNUHWNBT6MT2B']) {
    assert.ok(r.stdout.includes(`:${name} - [0:0]`), name);
  }
});

test('objects on stdin, a folder, and diagnostics on stderr with exit status 1', () => {
  const bad = `apiVersion: v1
kind: Service
metadata: {namespace: default, name: broken}
spec:
  clusterIP: 172.30.0.9
  ports:
  - {port: 99999, protocol: TCP}
`;
  const r = kproxy(['rules', '-f', '-', '-f', repoPath('examples')], bad);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^-:document 1: Service default\/broken: spec\.ports\[0\]\.port: error: /m);
  assert.match(r.stdout, /KUBE-SVC-2CMXP7HKUVJN7L6M/, 'the other objects are still rendered');
});

test('usage errors go to stderr with a non-zero status and no rules', () => {
  const r = kproxy(['rules', '-f', ARTICLE, '--iptables-masquerade-bit', '99']);
  assert.notEqual(r.status, 0);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /--iptables-masquerade-bit: must be an integer from 0 to 31/);
});

test('help describes the command and every option', () => {
  const top = kproxy(['--help']);
  assert.match(top.stdout, /rules/);
  const help = kproxy(['rules', '--help']).stdout;
  for (const flag of [
    '--proxy-mode', '--mode', '--config', '--hostname-override', '--node-ip', '--cluster-cidr', '--detect-local-mode',
    '--pod-bridge-interface', '--pod-interface-name-prefix', '--masquerade-all', '--nodeport-addresses',
    '--iptables-masquerade-bit', '--iptables-localhost-nodeports', '--filename', '--ip-family', '--format',
    '--show-jumps', '--no-random-fully', '--no-nfacct',
  ]) {
    assert.ok(help.includes(flag), flag);
  }
});

test('--show-jumps prints the built-in chain rules instead', () => {
  const r = kproxy(['rules', '-f', ARTICLE, '--show-jumps']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^iptables -t nat -I PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES$/m);
  assert.doesNotMatch(r.stdout, /\*filter/);
});
