import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { runKproxy } from '../helpers/cli.js';
import { repoPath } from '../helpers/paths.js';
import type { RulesDiff } from '../../src/tracer/diff.js';

const MANIFESTS = repoPath('examples/article-nginx-endpoints.yaml');
const CURRENT = fs.readFileSync(repoPath('test/fixtures/dumps/nginx-current.nft.save.txt'), 'utf8');

function diff(dump: string): { status: number | null; out: RulesDiff; stderr: string } {
  const r = runKproxy(['diff', '-f', MANIFESTS, '--hostname-override', 'node-1', '--rules', '-', '--json'], dump);
  return { status: r.status, out: JSON.parse(r.stdout) as RulesDiff, stderr: r.stderr };
}

test('diff: the node holds exactly what kproxy would program → no differences, exit 0', () => {
  const r = diff(CURRENT);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.out.services.map((s) => [s.name, s.status]), [['default/nginx', 'same']]);
  assert.equal(r.out.identical, true);
});

test('diff: a 2018 node (5-digit probabilities) differs in the endpoint probabilities, exit 1', () => {
  const r = diff(fs.readFileSync(repoPath('test/fixtures/dumps/nginx-2018.legacy.save.txt'), 'utf8'));
  assert.equal(r.status, 1);
  const s = r.out.services[0];
  assert.equal(s?.status, 'different');
  assert.deepEqual(s.fields, []);
  assert.deepEqual(s.endpoints.map((e) => [e.address, e.expected, e.actual]), [
    ['172.18.0.5:80', '715827883/2147483648', '178955181/536870912'],
    ['172.18.0.6:80', '1431655765/4294967296', '357915731/1073741824'],
    ['172.18.0.7:80', '1431655765/4294967296', '357915731/1073741824'],
  ]);
});

test('diff: a changed endpoint, a changed cluster IP and a service only in the dump', () => {
  const changed = CURRENT.replace('--to-destination 172.18.0.7:80', '--to-destination 172.18.0.8:80')
    .replace('-d 172.18.255.127/32', '-d 172.18.255.128/32')
    .replace(
      '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports',
      '-A KUBE-SERVICES -d 172.18.255.1/32 -p tcp -m comment --comment "default/other:web cluster IP" -m tcp --dport 8080 -j KUBE-SVC-2CMXP7HKUVJN7L6M\n-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports',
    );
  const r = diff(changed);
  assert.equal(r.status, 1);
  const nginx = r.out.services.find((s) => s.name === 'default/nginx');
  assert.deepEqual(nginx?.fields, [{ field: 'clusterIP', expected: '172.18.255.127', actual: '172.18.255.128' }]);
  assert.deepEqual(nginx.endpoints.map((e) => [e.address, e.expected === null, e.actual === null]), [
    ['172.18.0.7:80', false, true],
    ['172.18.0.8:80', true, false],
  ]);
  const other = r.out.services.find((s) => s.name === 'default/other');
  assert.deepEqual([other?.port, other?.status], ['web', 'extra']);
  const missing = diff('*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n');
  assert.deepEqual(missing.out.services.map((s) => [s.name, s.status, s.endpoints.length]), [['default/nginx', 'missing', 3]]);
});
