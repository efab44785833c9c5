import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConntrackList } from '../../src/runtime/conntrack.js';
import { staleConntrackEntries, conntrackCleanupRequired } from '../../src/core/policy/conntrack.js';
import { buildDesiredState } from '../../src/core/desired/build.js';
import { DEFAULT_PROXY_CONFIG } from '../../src/core/model/config.js';
import { DiagnosticSink } from '../../src/core/model/diagnostics.js';
import { EMPTY_CLUSTER } from '../../src/core/model/objects.js';
import { endpoint, port, service, slice } from '../helpers/objects.js';

const LIST = `udp      17 29 src=10.0.9.1 dst=10.96.0.10 sport=40000 dport=53 [UNREPLIED] src=10.244.0.5 dst=10.0.9.1 sport=53 dport=40000 mark=0 use=1
udp      17 25 src=10.0.9.1 dst=10.96.0.10 sport=40001 dport=53 src=10.244.0.6 dst=10.0.9.1 sport=53 dport=40001 mark=0 use=1
udp      17 25 src=198.51.100.1 dst=198.51.100.2 sport=5000 dport=30053 src=10.244.0.5 dst=198.51.100.2 sport=53 dport=5000 mark=0 use=1
conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.
`;

test('conntrack -L lines parse into original destination and reply source', () => {
  const e = parseConntrackList(LIST);
  assert.equal(e.length, 3);
  assert.deepEqual(e[0], { protocol: 'udp', origDst: '10.96.0.10', origDstPort: 53, replySrc: '10.244.0.5' });
});

test('flows to endpoints that are no longer serving are stale, for the service IP and the node port', () => {
  const state = buildDesiredState(
    {
      ...EMPTY_CLUSTER,
      services: [service('kube-system', 'dns', { type: 'NodePort', clusterIP: '10.96.0.10', ports: [port({ port: 53, protocol: 'UDP', nodePort: 30053 })] })],
      endpointSlices: [
        slice('kube-system', 'dns-1', 'dns', {
          ports: [{ name: '', port: 53, protocol: 'UDP' }],
          endpoints: [endpoint('10.244.0.6'), endpoint('10.244.0.5', { conditions: { ready: false, serving: false, terminating: true } })],
        }),
      ],
    },
    { ...DEFAULT_PROXY_CONFIG, nodeName: 'n' },
    'IPv4',
    new DiagnosticSink(),
  );
  const stale = staleConntrackEntries(state, parseConntrackList(LIST));
  assert.deepEqual(stale, [
    { origDst: '10.96.0.10', origDstPort: 53, replySrc: '10.244.0.5' },
    { origDst: null, origDstPort: 30053, replySrc: '10.244.0.5' },
  ]);
  assert.equal(conntrackCleanupRequired(null, state, ['kube-system/dns']), true);
  assert.equal(conntrackCleanupRequired(null, state, ['default/other']), false);
});
