/**
 * Properties of the userspace dataplane over random clusters: plan and rules are deterministic
 * and independent of input order; every portal targets a planned proxy port; parse(render)
 * round-trips; every service port with a ClusterIP has exactly one container and one host portal
 * (at least) for it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { ClusterObjects } from '../../src/core/model/objects.js';
import type { ProxyConfig } from '../../src/core/model/config.js';
import { parseIptables } from '../../src/dataplanes/iptables/parse.js';
import { serializeRuleset } from '../../src/dataplanes/iptables/serialize.js';
import { assignPorts } from '../../src/dataplanes/userspace/offline.js';
import { planListeners } from '../../src/dataplanes/userspace/plan.js';
import { renderUserspace } from '../../src/dataplanes/userspace/render.js';
import { desired } from './iptables-helpers.js';
import { clusterObjects, proxyConfig, shuffled } from '../property/render-arbitraries.js';

const RUNS = { numRuns: 60 };
const RANGE = { base: 20000, size: 1000 };
const HOST = { listenIP: '0.0.0.0', hostIP: '192.168.0.2' };

function render(objects: ClusterObjects, config: ProxyConfig): { text: string; ports: Map<string, number> } {
  const state = desired(objects, config);
  const plan = planListeners(state);
  const ports = assignPorts(plan, RANGE);
  return { text: serializeRuleset(renderUserspace({ state, plan, ports, host: HOST })), ports };
}

test('userspace rules are deterministic and independent of input order', () => {
  fc.assert(
    fc.property(clusterObjects, proxyConfig, fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), (objects, config, seeds) => {
      const { text } = render(objects, config);
      assert.equal(render(objects, config).text, text);
      const reordered = { ...objects, services: shuffled(objects.services, seeds), endpointSlices: shuffled(objects.endpointSlices, seeds) };
      assert.equal(render(reordered, config).text, text);
    }),
    RUNS,
  );
});

test('every portal sends traffic to a planned proxy port, and the text parses back', () => {
  fc.assert(
    fc.property(clusterObjects, proxyConfig, (objects, config) => {
      const { text, ports } = render(objects, config);
      const planned = new Set(ports.values());
      assert.equal(planned.size, ports.size, 'one port per frontend');
      const parsed = parseIptables(text);
      for (const table of parsed.tables) {
        for (const rule of table.rules) {
          const w = rule.words;
          const redirect = w.indexOf('--to-ports');
          const dnat = w.indexOf('--to-destination');
          if (redirect >= 0) assert.ok(planned.has(Number(w[redirect + 1])), `${rule.chain}: ${w.join(' ')}`);
          if (dnat >= 0) assert.ok(planned.has(Number((w[dnat + 1] ?? '').split(':').pop())), `${rule.chain}: ${w.join(' ')}`);
        }
      }
      assert.equal(serializeRuleset(parsed).replace(/\[0:0\]/g, ''), text.replace(/\[0:0\]/g, ''));
    }),
    RUNS,
  );
});

test('each service port\'s ClusterIP has one portal from pods and one from the node', () => {
  fc.assert(
    fc.property(clusterObjects, proxyConfig, (objects, config) => {
      const state = desired(objects, config);
      const { text } = render(objects, config);
      const lines = text.split('\n');
      for (const sp of state.servicePorts) {
        if (sp.info.key.protocol === 'SCTP') continue;
        const proto = sp.info.key.protocol.toLowerCase();
        const match = ` -p ${proto} -m ${proto} --dport ${sp.info.port} -d ${sp.info.clusterIP}/32 `;
        for (const chain of ['KUBE-PORTALS-CONTAINER', 'KUBE-PORTALS-HOST']) {
          const n = lines.filter((l) => l.startsWith(`-A ${chain} `) && l.includes(match)).length;
          assert.ok(n >= 1, `${chain} has the ClusterIP portal of ${sp.info.key.name}`);
        }
      }
    }),
    RUNS,
  );
});
