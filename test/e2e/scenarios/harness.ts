/**
 * Runs the scenario table for one proxy mode: one sandbox per group, one `kproxy run` per node
 * (inside the node's namespace), every scenario as a test. Everything is removed afterwards.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProxyMode } from '../../../src/core/model/config.js';
import { firstSyncDone, startDaemon, waitFor, type DaemonHandle } from '../../../src/runtime/daemon-process.js';
import { createSandbox, type Sandbox, type TrafficResult } from '../../../src/runtime/sandbox/index.js';
import { kernelSkip, objectsFromYaml, tempStateRoot } from '../../helpers/e2e.js';
import { GROUPS, type GroupName } from './groups.js';
import { resolveProbe, send, type Probe } from './probes.js';
import { SCENARIOS } from './table.js';
import type { Observation, Scenario, ScenarioContext } from './types.js';

export interface HarnessOptions {
  /** Called after every probe with what was sent and what came back. */
  readonly onObservation?: (o: Observation, sb: Sandbox) => Promise<void>;
  /** Extra `kproxy run` flags. */
  readonly daemonArgs?: readonly string[];
  /** Only these scenarios (by name); all when absent. */
  readonly only?: (s: Scenario) => boolean;
}

function context(mode: ProxyMode, sb: Sandbox, scenario: Scenario, opts: HarnessOptions): ScenarioContext {
  const observe = async (probe: Probe, result: TrafficResult, settled?: string): Promise<void> => {
    const o: Observation = { scenario: scenario.name, probe, resolved: resolveProbe(sb, probe), result, ...(settled === undefined ? {} : { settled }) };
    await opts.onObservation?.(o, sb);
  };
  return {
    mode,
    sb,
    async send(probe) {
      const result = await send(sb, probe);
      await observe(probe, result);
      return result;
    },
    async eventually(probe, check, what, timeoutMs = 30_000) {
      let last = null as TrafficResult | null;
      try {
        await waitFor(
          what,
          async () => {
            last = await send(sb, probe);
            return check(last);
          },
          timeoutMs,
          200,
        );
      } catch (err) {
        const seen = last === null ? 'nothing' : JSON.stringify({ byPod: last.byPod, errorKinds: last.errorKinds });
        throw new Error(`${err instanceof Error ? err.message : String(err)}; last result: ${seen}`, { cause: err });
      }
      assert.ok(last !== null);
      if (opts.onObservation !== undefined) {
        // Not the accepted result itself: `check` picked it, and it may have been sent while the
        // rules changed. A fresh probe once the change has settled is a fair sample of the new rules.
        await observe(probe, await send(sb, probe), what);
      }
      return last;
    },
    podsOf(app, node) {
      return sb.pods
        .filter((p) => p.labels['app'] === app && p.phase === 'Running' && (node === undefined || p.nodeName === node))
        .map((p) => p.name)
        .sort();
    },
  };
}

function runGroup(mode: ProxyMode, group: GroupName, scenarios: readonly Scenario[], opts: HarnessOptions): void {
  describe(`${mode} mode, ${group} sandbox`, { skip: kernelSkip(['ip', 'iptables', 'iptables-restore', 'curl']) }, () => {
    let sb: Sandbox | null = null;
    let removeRoot: (() => Promise<void>) | null = null;
    const daemons: DaemonHandle[] = [];

    before(async () => {
      const root = await tempStateRoot();
      removeRoot = root.remove;
      const spec = GROUPS[group];
      sb = await createSandbox(objectsFromYaml(spec.manifests, `${group}.yaml`), {
        name: `e2e-${mode}-${group}`,
        nodes: spec.nodes,
        stateRoot: root.root,
      });
      for (const node of sb.nodes) {
        daemons.push(
          startDaemon(node.netns, [
            '--proxy-mode', mode,
            '-f', sb.manifestsDir,
            '--hostname-override', node.name,
            '--node-ip', node.address,
            '--cluster-cidr', '172.18.0.0/16',
            '--ip-families', 'ipv4',
            '--iptables-min-sync-period', '100ms',
            '--healthz-bind-address', '0.0.0.0:10256',
            ...(opts.daemonArgs ?? []),
          ]),
        );
      }
      for (const [i, node] of sb.nodes.entries()) {
        const d = daemons[i];
        // A bound for a proxy that never syncs, well above a slow start on a loaded machine.
        await waitFor(`the proxy on ${node.name} to sync`, async () => {
          if (d !== undefined && d.child.exitCode !== null) throw new Error(`kproxy run exited:\n${d.logs()}`);
          return firstSyncDone(node.netns);
        }, 60_000);
      }
    });

    after(async () => {
      for (const d of daemons) {
        const code = await d.stop();
        if (code !== 0) process.stderr.write(`kproxy run exited with ${String(code)}:\n${d.logs()}\n`);
      }
      await sb?.down();
      await removeRoot?.();
    });

    for (const scenario of scenarios) {
      const reason = scenario.notApplicable?.[mode];
      if (reason !== undefined) {
        test(`${scenario.name} — not applicable in ${mode} mode: ${reason}`, () => {
          assert.ok(reason.length > 0);
        });
        continue;
      }
      test(scenario.name, async () => {
        assert.ok(sb !== null, 'the sandbox is up');
        await scenario.run(context(mode, sb, scenario, opts));
      });
    }
  });
}

export function runScenarioTable(mode: ProxyMode, opts: HarnessOptions = {}): void {
  // KPROXY_SCENARIO=text runs only the scenarios whose name contains it (for debugging).
  const pick = process.env['KPROXY_SCENARIO'];
  const selected = SCENARIOS.filter((s) => (opts.only?.(s) ?? true) && (pick === undefined || s.name.includes(pick)));
  for (const group of Object.keys(GROUPS) as GroupName[]) {
    const scenarios = selected.filter((s) => s.group === group);
    if (scenarios.length > 0) runGroup(mode, group, scenarios, opts);
  }
}
