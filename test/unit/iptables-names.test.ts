/** Chain names (reference §3.1): every name of the worked examples and of kube-proxy's tests. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServicePortKey } from '../../src/core/model/service-port.js';
import {
  MAX_CHAIN_NAME_LENGTH,
  endpointChainName,
  hash16,
  isLegacyServiceChainName,
  isServiceChainName,
  servicePortChainNames,
} from '../../src/dataplanes/iptables/names.js';

const nginx: ServicePortKey = { namespace: 'default', name: 'nginx', portName: '', protocol: 'TCP' };

test('the article service, current format (v1.19+): default/nginx + tcp', () => {
  const names = servicePortChainNames(nginx, 'current');
  assert.equal(names.spn, 'default/nginx');
  assert.equal(names.svc, 'KUBE-SVC-2CMXP7HKUVJN7L6M');
  assert.deepEqual(
    ['172.18.0.5:80', '172.18.0.6:80', '172.18.0.7:80'].map((ep) => endpointChainName(names, ep)),
    ['KUBE-SEP-QLIJNPST3ICX5TJY', 'KUBE-SEP-GLPL34GQHSYFHR3G', 'KUBE-SEP-HI2F4S4VJRUG452O'],
  );
});

test('the article service, legacy format (v1.18): default/nginx: + tcp', () => {
  const names = servicePortChainNames(nginx, 'legacy');
  assert.equal(names.spn, 'default/nginx:');
  assert.equal(names.svc, 'KUBE-SVC-4N57TFCL4MD7ZTDA');
  assert.deepEqual(
    ['172.18.0.5:80', '172.18.0.6:80', '172.18.0.7:80'].map((ep) => endpointChainName(names, ep)),
    ['KUBE-SEP-G4A7DIXDTUZ6AHE3', 'KUBE-SEP-J5YCYOGHESVN34H2', 'KUBE-SEP-TPLSNUHWNBT6MT2B'],
  );
});

test('hashes from kube-proxy tests (reference §3.1)', () => {
  assert.equal(hash16('ns1/svc1:p80tcp'), 'XPGD46QRK7WJZT7O');
  assert.equal(hash16('ns1/svc1:p80tcp10.180.0.1:80'), 'SXIVWICOYRO3J4NJ');
  assert.equal(hash16('ns1/svc1tcp'), 'AQI2S6QIMU7PVVRP');
  assert.equal(hash16('kube-system/kube-dns:dnsudp'), 'TCOU7JCQXEZGVUNU');
  assert.equal(hash16('default/kubernetes:httpstcp'), 'NPX46M4PTMTKRN6Y');
});

test('every chain kind shares the service-port hash; protocol and port name change it', () => {
  const key: ServicePortKey = { namespace: 'ns5', name: 'svc5', portName: 'p80', protocol: 'TCP' };
  const n = servicePortChainNames(key);
  assert.deepEqual([n.svc, n.svl, n.ext, n.fw, n.xlb], [
    'KUBE-SVC-NUKIZ6OKUXPJNT4C', 'KUBE-SVL-NUKIZ6OKUXPJNT4C', 'KUBE-EXT-NUKIZ6OKUXPJNT4C',
    'KUBE-FW-NUKIZ6OKUXPJNT4C', 'KUBE-XLB-NUKIZ6OKUXPJNT4C',
  ]);
  assert.equal(endpointChainName(n, '10.180.0.3:80'), 'KUBE-SEP-I77PXRDZVX7PMWMN');
  assert.notEqual(servicePortChainNames({ ...key, protocol: 'UDP' }).svc, n.svc);
  assert.notEqual(servicePortChainNames({ ...key, portName: 'p81' }).svc, n.svc);
  for (const name of [n.svc, n.svl, n.ext, n.fw, n.xlb, endpointChainName(n, '[fd00::1]:80')]) {
    assert.ok(name.length <= MAX_CHAIN_NAME_LENGTH);
  }
});

test('service chain recognition for stale-chain cleanup', () => {
  for (const c of ['KUBE-SVC-X', 'KUBE-SVL-X', 'KUBE-EXT-X', 'KUBE-FW-X', 'KUBE-SEP-X']) assert.ok(isServiceChainName(c), c);
  for (const c of ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-XLB-X', 'KUBE-MARK-MASQ', 'FOO']) assert.ok(!isServiceChainName(c), c);
  for (const c of ['KUBE-SVC-X', 'KUBE-SEP-X', 'KUBE-FW-X', 'KUBE-XLB-X']) assert.ok(isLegacyServiceChainName(c), c);
  assert.ok(!isLegacyServiceChainName('KUBE-EXT-X'));
});
