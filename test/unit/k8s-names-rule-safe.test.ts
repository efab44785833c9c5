/**
 * Names an API server refuses but kube-proxy still renders (upper case, "_", a leading digit,
 * ".") are kept with a warning and rendered as kube-proxy renders them; names that could break
 * a rule line or merge two Service ports ("/", ":", quotes, spaces, newlines, too long) are
 * refused with an error. Exit status: 0 with warnings only, 1 when something was refused.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { isRuleSafeName } from '../../src/core/k8s/names.js';
import { runKproxy as kproxy } from '../helpers/cli.js';
import { decodeYaml } from './k8s-helpers.js';

/** kube-proxy's chain hash, written independently: base32 (RFC 4648) of SHA-256, first 16 characters. */
function h16(input: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const byte of createHash('sha256').update(input).digest()) bits += byte.toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i < 16 * 5; i += 5) out += alphabet.charAt(parseInt(bits.slice(i, i + 5), 2));
  return out;
}

const ODD_BUT_SAFE = `apiVersion: v1
kind: Service
metadata: {name: Web_1, namespace: Team-A}
spec:
  clusterIP: 10.0.0.50
  ports: [{name: HTTP, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: Web_1-abc, namespace: Team-A, labels: {kubernetes.io/service-name: Web_1}}
addressType: IPv4
ports: [{name: HTTP, port: 8080, protocol: TCP}]
endpoints:
- addresses: [10.1.0.5]
`;

test('rule-safe: letters of either case, digits, ".", "_", "-", up to the limit', () => {
  for (const ok of ['web', 'Web', 'WEB_1', '1st', 'a.b', 'a-b', 'x'.repeat(63)]) assert.ok(isRuleSafeName(ok, 63), ok);
  for (const bad of ['', 'a b', 'a"b', 'a\\b', 'a\nb', 'a/b', 'a:b', "a'b", 'ä', 'x'.repeat(64), 'a\tb']) {
    assert.ok(!isRuleSafeName(bad, 63), JSON.stringify(bad));
  }
});

test('names an API server refuses but kube-proxy renders are warnings, and the objects are kept', () => {
  const d = decodeYaml(ODD_BUT_SAFE);
  assert.ok(d.diagnostics.every((x) => x.severity === 'warning'), d.lines.join('\n'));
  assert.ok(d.lines.some((l) => /^input\.yaml:document 1: Service Team-A\/Web_1: metadata\.name: warning: "Web_1" is not a valid name .*kube-proxy uses it/.test(l)), d.lines.join('\n'));
  assert.ok(d.lines.some((l) => /^input\.yaml:document 1: Service Team-A\/Web_1: spec\.ports\[0\]\.name: warning: "HTTP" is not a valid port name/.test(l)));
  assert.ok(d.lines.some((l) => /^input\.yaml:document 2: EndpointSlice Team-A\/Web_1-abc: ports\[0\]\.name: warning: "HTTP"/.test(l)));
  assert.deepEqual(d.objects.services.map((s) => [s.meta.namespace, s.meta.name, s.ports.map((p) => p.name)]), [['Team-A', 'Web_1', ['HTTP']]]);
  assert.equal(d.objects.endpointSlices.length, 1);
});

test('rules renders such names as kube-proxy does (hash of the exact string), exit status 0', () => {
  const r = kproxy(['rules', '-f', '-', '--hostname-override', 'node-1', '--no-random-fully'], ODD_BUT_SAFE);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /warning: "Web_1" is not a valid name/);
  const svc = `KUBE-SVC-${h16('Team-A/Web_1:HTTPtcp')}`;
  const sep = `KUBE-SEP-${h16('Team-A/Web_1:HTTPtcp10.1.0.5:8080')}`;
  assert.ok(r.stdout.includes(`-A KUBE-SERVICES -m comment --comment "Team-A/Web_1:HTTP cluster IP" -m tcp -p tcp -d 10.0.0.50 --dport 80 -j ${svc}\n`), r.stdout);
  assert.ok(r.stdout.includes(`-A ${svc} -m comment --comment "Team-A/Web_1:HTTP -> 10.1.0.5:8080" -j ${sep}\n`), r.stdout);
  assert.ok(r.stdout.includes(`-A ${sep} -m comment --comment Team-A/Web_1:HTTP -m tcp -p tcp -j DNAT --to-destination 10.1.0.5:8080\n`), r.stdout);
});

test('names that would break a rule line are refused with an error naming the field; exit status 1', () => {
  const text = [
    'apiVersion: v1\nkind: Service\nmetadata: {name: "a\\"b", namespace: default}\nspec: {clusterIP: 10.0.0.51, ports: [{port: 80}]}\n',
    'apiVersion: v1\nkind: Service\nmetadata: {name: ok, namespace: "x/y"}\nspec: {clusterIP: 10.0.0.52, ports: [{port: 80}]}\n',
    'apiVersion: v1\nkind: Service\nmetadata: {name: ok2, namespace: default}\nspec: {clusterIP: 10.0.0.53, ports: [{name: "p\\nq", port: 80}, {name: good, port: 81}]}\n',
  ].join('---\n');
  const r = kproxy(['rules', '-f', '-', '--hostname-override', 'node-1'], text);
  assert.equal(r.status, 1);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 3, r.stderr);
  assert.match(lines[0] ?? '', /^-:document 1: Service: metadata\.name: error: "a\\"b" is not a valid name .*the object is skipped$/);
  assert.match(lines[1] ?? '', /^-:document 2: Service ok: metadata\.namespace: error: "x\/y" is not a valid namespace .*the object is skipped$/);
  assert.match(lines[2] ?? '', /^-:document 3: Service default\/ok2: spec\.ports\[0\]\.name: error: "p\\nq" is not a valid port name .*spec\.ports\[0\] is dropped$/);
  assert.doesNotMatch(r.stdout, /a"b|x\/y|10\.0\.0\.51|10\.0\.0\.52/);
  assert.match(r.stdout, /"default\/ok2:good has no endpoints"/, 'the rest is still rendered');
  for (const line of r.stdout.split('\n')) assert.equal((line.match(/"/g) ?? []).length % 2, 0, line);
});

test('a named targetPort an API server refuses still matches a container port of that name', () => {
  const text = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {clusterIP: 10.0.0.150, selector: {app: w}, ports: [{port: 80, targetPort: Web_Port}, {name: b, port: 81, targetPort: "a b"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: pod-1, namespace: default, labels: {app: w}}
spec: {nodeName: node-1, containers: [{name: c, ports: [{name: Web_Port, containerPort: 8080}]}]}
status: {podIP: 10.9.0.1, phase: Running, conditions: [{type: Ready, status: "True"}]}
`;
  const r = kproxy(['rules', '-f', '-', '--hostname-override', 'node-1'], text);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /spec\.ports\[0\]\.targetPort: warning: "Web_Port" is not a valid port name \(IANA_SVC_NAME\): an API server refuses it; container ports of that name still match it/);
  assert.match(r.stderr, /spec\.ports\[1\]\.targetPort: warning: "a b" is not a valid port name \(IANA_SVC_NAME\): an API server refuses it; no container port can match it/);
  assert.match(r.stdout, /-m comment --comment "default\/web:? -> 10\.9\.0\.1:8080"/);
});
