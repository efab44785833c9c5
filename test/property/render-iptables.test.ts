/**
 * Properties of the iptables renderer over random clusters: deterministic and independent of
 * input order; consistent (every jump target exists, names fit, none collide); parse(render)
 * round-trips; the kernel (our fake) accepts it; and a partial sync over the previous state
 * leaves the same tables as a full sync.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { DesiredState } from '../../src/core/desired/types.js';
import type { ProxyConfig } from '../../src/core/model/config.js';
import type { ClusterObjects } from '../../src/core/model/objects.js';
import { serviceName, type RuleFormat } from '../../src/core/naming/service-port-name.js';
import { FULL_SYNC } from '../../src/dataplanes/api.js';
import { checkConsistency } from '../../src/dataplanes/iptables/consistency.js';
import { CURRENT_NODE_CAPABILITIES } from '../../src/dataplanes/iptables/host.js';
import type { Ruleset, TableName } from '../../src/dataplanes/iptables/model.js';
import { MAX_CHAIN_NAME_LENGTH } from '../../src/dataplanes/iptables/names.js';
import { parseIptables } from '../../src/dataplanes/iptables/parse.js';
import { renderIptables, renderIptablesFormat, renderIptablesText } from '../../src/dataplanes/iptables/render.js';
import { serializeRuleset } from '../../src/dataplanes/iptables/serialize.js';
import { FakeIptables } from '../../src/runtime/fakes/iptables.js';
import { desired } from '../unit/iptables-helpers.js';
import { clusterObjects, proxyConfig, shuffled } from './render-arbitraries.js';

const RUNS = { numRuns: 60 };
const host = { capabilities: CURRENT_NODE_CAPABILITIES, existingNatChains: [] };

function render(objects: ClusterObjects, config: ProxyConfig, format: RuleFormat = 'current'): Ruleset {
  return renderIptablesFormat({ state: desired(objects, config), scope: FULL_SYNC, host }, format);
}

test('rendering is deterministic and independent of input order', () => {
  fc.assert(
    fc.property(clusterObjects, proxyConfig, fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), fc.constantFrom<RuleFormat>('current', 'legacy'), (objects, config, seeds, format) => {
      const text = serializeRuleset(render(objects, config, format));
      assert.equal(serializeRuleset(render(objects, config, format)), text);
      const reordered = {
        ...objects,
        services: shuffled(objects.services, seeds),
        endpointSlices: shuffled(objects.endpointSlices, [...seeds].reverse()),
      };
      assert.equal(serializeRuleset(render(reordered, config, format)), text);
    }),
    RUNS,
  );
});

test('every rendered ruleset is consistent, names fit in 28 characters and never collide', () => {
  fc.assert(
    fc.property(clusterObjects, proxyConfig, fc.constantFrom<RuleFormat>('current', 'legacy'), (objects, config, format) => {
      const ruleset = render(objects, config, format);
      assert.deepEqual(checkConsistency(ruleset), []);
      for (const table of ruleset.tables) {
        for (const c of table.chains) assert.ok(c.name.length <= MAX_CHAIN_NAME_LENGTH, c.name);
      }
      // Distinct service ports and endpoints get distinct chains: count what must exist.
      const state = desired(objects, config);
      const nat = ruleset.tables.find((t) => t.name === 'nat');
      const svcChains = new Set(nat?.chains.filter((c) => c.name.startsWith('KUBE-SVC-')).map((c) => c.name));
      const withClusterChain = state.servicePorts.filter((sp) => format === 'legacy' ? sp.endpoints.some((e) => e.ready) : sp.policy.usesClusterPolicy);
      assert.equal(svcChains.size, withClusterChain.length);
    }),
    RUNS,
  );
});

test('the direct text renderer writes exactly serializeRuleset of the typed renderer', () => {
  fc.assert(
    fc.property(
      clusterObjects,
      proxyConfig,
      fc.constantFrom<RuleFormat>('current', 'legacy'),
      fc.boolean(),
      fc.subarray(['KUBE-SVC-STALE0000000000A', 'KUBE-SEP-STALE0000000000B', 'KUBE-XLB-STALE000000000C', 'OTHER']),
      (objects, config, format, full, existing) => {
        const state = desired(objects, config);
        const names = state.servicePorts.map((sp) => serviceName(sp.info.key));
        const input = {
          state,
          scope: { full, changedServices: new Set(names.filter((_, i) => i % 2 === 0)) },
          host: { ...host, existingNatChains: existing },
        };
        assert.equal(renderIptablesText(input, format), serializeRuleset(renderIptablesFormat(input, format)));
      },
    ),
    RUNS,
  );
});

test('parse(serialize(render)) gives back the rendered ruleset', () => {
  fc.assert(
    fc.property(clusterObjects, proxyConfig, (objects, config) => {
      const ruleset = render(objects, config);
      const parsed = parseIptables(serializeRuleset(ruleset));
      const strip = (rs: Ruleset): Ruleset => ({
        tables: rs.tables.map((t) => ({ ...t, rules: t.rules.map((r) => ({ chain: r.chain, words: r.words })) })),
      });
      assert.deepEqual(strip({ tables: parsed.tables }), ruleset);
    }),
    RUNS,
  );
});

/** The kernel's view of our chains: name → rules, for the chains kproxy owns. */
function kernelView(kernel: FakeIptables): Record<string, string[]> {
  const view: Record<string, string[]> = {};
  for (const table of ['filter', 'nat'] as TableName[]) {
    for (const chain of kernel.chainNames(table).sort()) {
      view[`${table} ${chain}`] = kernel.rules(table, chain).map((w) => w.join(' '));
    }
  }
  return view;
}

/** Services whose rendered per-service chains may differ between two states. */
function changedServices(a: DesiredState, b: DesiredState): Set<string> {
  const byService = (s: DesiredState): Map<string, string> => {
    const m = new Map<string, string>();
    for (const sp of s.servicePorts) {
      const key = serviceName(sp.info.key);
      m.set(key, (m.get(key) ?? '') + JSON.stringify(sp));
    }
    return m;
  };
  const [ma, mb] = [byService(a), byService(b)];
  const changed = new Set<string>();
  for (const key of new Set([...ma.keys(), ...mb.keys()])) if (ma.get(key) !== mb.get(key)) changed.add(key);
  return changed;
}

test('a partial sync over the previous state leaves the kernel as a full sync would', () => {
  fc.assert(
    fc.property(clusterObjects, clusterObjects, proxyConfig, (before, after, config) => {
      const a = desired(before, config);
      const b = desired(after, config);
      fc.pre(a.largeClusterMode === b.largeClusterMode);
      const kernel = new FakeIptables();
      kernel.restore(renderIptables({ state: a, scope: FULL_SYNC, host: { ...host, existingNatChains: kernel.chainNames('nat') } }));
      const partial = renderIptables({
        state: b,
        scope: { full: false, changedServices: changedServices(a, b) },
        host: { ...host, existingNatChains: kernel.chainNames('nat') },
      });
      assert.deepEqual(checkConsistency(partial, { existingChains: { nat: kernel.chainNames('nat') } }), []);
      kernel.restore(partial);

      const fresh = new FakeIptables();
      fresh.restore(renderIptables({ state: b, scope: FULL_SYNC, host }));
      assert.deepEqual(kernelView(kernel), kernelView(fresh));
    }),
    RUNS,
  );
});
