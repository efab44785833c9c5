/**
 * A --proxy-port-range too small for every listener: the service ports that got no port are not
 * proxied (no portal rules, nothing redirected to a port nobody listens on) and say so; every
 * other service port is programmed as usual, offline and in the daemon alike.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildDesiredState } from '../../src/core/desired/build.js';
import { DEFAULT_PROXY_CONFIG, type ProxyConfig } from '../../src/core/model/config.js';
import { DiagnosticSink } from '../../src/core/model/diagnostics.js';
import { parseIptables } from '../../src/dataplanes/iptables/parse.js';
import { serializeRuleset } from '../../src/dataplanes/iptables/serialize.js';
import { assignPorts, offlineUserspaceText } from '../../src/dataplanes/userspace/offline.js';
import { planListeners } from '../../src/dataplanes/userspace/plan.js';
import { proxiedServicePorts, renderUserspace } from '../../src/dataplanes/userspace/render.js';
import { cluster, service, slice } from './iptables-helpers.js';

const CONFIG: ProxyConfig = { ...DEFAULT_PROXY_CONFIG, nodeName: 'node-1', nodeIPs: ['192.168.49.2'], clusterCIDRs: ['172.18.0.0/16'] };
const HOST = { listenIP: '0.0.0.0', hostIP: '192.168.49.2' };

function threeServices(): ReturnType<typeof buildDesiredState> {
  const names = ['a', 'b', 'c'];
  const objects = cluster(
    names.map((n, i) => service('default', n, { clusterIP: `172.18.255.${10 + i}`, ports: [{ port: 80 }] })),
    names.map((n, i) => slice('default', `${n}-1`, n, [{ ip: `172.18.0.${5 + i}`, node: 'node-1', ready: true }], [{ port: 80 }])),
  );
  return buildDesiredState(objects, CONFIG, 'IPv4', new DiagnosticSink());
}

test('offline: the service ports past the end of the range get no rules and are named', () => {
  const state = threeServices();
  const text = offlineUserspaceText(state, { range: { base: 40000, size: 2 }, host: HOST });
  assert.match(text, /^# not proxied \(no port left in the range, so no rules\): default\/c$/m);
  const portals = text.split('\n').filter((l) => l.startsWith('-A KUBE-PORTALS-CONTAINER '));
  assert.deepEqual(
    portals.map((l) => /--comment (\S+)/.exec(l)?.[1]),
    ['default/a', 'default/b'],
  );
  assert.equal(parseIptables(text).tables.length, 2, 'still valid restore input');
});

test('render: a service port whose listener has no port is left out, the others are written', () => {
  const state = threeServices();
  const plan = planListeners(state);
  const all = assignPorts(plan, { base: 40000, size: 100 });
  const withoutB = new Map([...all].filter(([id]) => !id.startsWith('default/b')));
  assert.deepEqual(proxiedServicePorts(plan, withoutB).map((sf) => sf.spn), ['default/a', 'default/c']);
  const text = serializeRuleset(renderUserspace({ state, plan, ports: withoutB, host: HOST }));
  assert.doesNotMatch(text, /default\/b/);
  assert.match(text, /-d 172\.18\.255\.12\/32 .*REDIRECT --to-ports 40002/);
});
