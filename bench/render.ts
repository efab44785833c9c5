/**
 * `npm run bench`: renders synthetic clusters of 1k, 10k and 30k services (10 endpoints each, a
 * mix of ClusterIP / NodePort / LoadBalancer, some with externalTrafficPolicy Local, source
 * ranges or session affinity) to iptables-restore text and prints one JSON document.
 *
 * Each size runs in its own child process so that its peak RSS is its own. Timings:
 * - buildMs: objects → DesiredState (core);
 * - renderMs: DesiredState → Ruleset → restore text, cold (chain-name hashes not memoised);
 * - warmRenderMs: the same again, as the daemon's next full sync would do it.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildDesiredState } from '../src/core/desired/build.js';
import { DEFAULT_PROXY_CONFIG, type ProxyConfig } from '../src/core/model/config.js';
import { DiagnosticSink } from '../src/core/model/diagnostics.js';
import { FULL_SYNC } from '../src/dataplanes/api.js';
import { FRESH_CURRENT_NODE } from '../src/dataplanes/iptables/host.js';
import { clearNameCache } from '../src/dataplanes/iptables/names.js';
import { renderIptables } from '../src/dataplanes/iptables/render.js';
import { serializeRuleset } from '../src/dataplanes/iptables/serialize.js';
import { syntheticCluster } from './synthetic-cluster.js';

const SIZES = [1_000, 10_000, 30_000];

const CONFIG: ProxyConfig = {
  ...DEFAULT_PROXY_CONFIG,
  nodeName: 'node-0',
  nodeIPs: ['192.168.0.2'],
  clusterCIDRs: ['10.0.0.0/8'],
};

interface SizeResult {
  readonly services: number;
  readonly endpoints: number;
  readonly buildMs: number;
  readonly renderMs: number;
  readonly warmRenderMs: number;
  readonly outputBytes: number;
  readonly rules: number;
  readonly peakRssMB: number;
}

function ms(since: bigint): number {
  return Math.round(Number(process.hrtime.bigint() - since) / 1e4) / 100;
}

function runSize(services: number): SizeResult {
  const objects = syntheticCluster(services);
  let t = process.hrtime.bigint();
  const state = buildDesiredState(objects, CONFIG, 'IPv4', new DiagnosticSink());
  const buildMs = ms(t);

  clearNameCache();
  t = process.hrtime.bigint();
  const ruleset = renderIptables({ state, scope: FULL_SYNC, host: FRESH_CURRENT_NODE });
  const text = serializeRuleset(ruleset);
  const renderMs = ms(t);

  t = process.hrtime.bigint();
  const again = serializeRuleset(renderIptables({ state, scope: FULL_SYNC, host: FRESH_CURRENT_NODE }));
  const warmRenderMs = ms(t);
  if (again !== text) throw new Error('rendering is not deterministic');

  return {
    services,
    endpoints: state.totalEndpoints,
    buildMs,
    renderMs,
    warmRenderMs,
    outputBytes: Buffer.byteLength(text),
    rules: ruleset.tables.reduce((n, tb) => n + tb.rules.length, 0),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

function main(): void {
  const sizeArg = process.argv.indexOf('--size');
  if (sizeArg >= 0) {
    process.stdout.write(JSON.stringify(runSize(Number(process.argv[sizeArg + 1]))));
    return;
  }
  const self = fileURLToPath(import.meta.url);
  const results: SizeResult[] = [];
  for (const size of SIZES) {
    const child = spawnSync(process.execPath, [self, '--size', String(size)], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (child.status !== 0) throw new Error(`bench size ${size} failed: ${child.stderr}`);
    results.push(JSON.parse(child.stdout) as SizeResult);
  }
  const target = results.find((r) => r.services === 10_000);
  process.stdout.write(
    `${JSON.stringify(
      {
        benchmark: 'iptables-render',
        node: process.version,
        target: { services: 10_000, renderMsBelow: 1000, peakRssMBBelow: 500 },
        met: target !== undefined && target.renderMs < 1000 && target.peakRssMB < 500,
        results,
      },
      null,
      2,
    )}\n`,
  );
}

main();
