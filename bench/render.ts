/**
 * `npm run bench`: renders synthetic clusters of 1k, 10k and 30k services (10 endpoints each, a
 * mix of ClusterIP / NodePort / LoadBalancer, some with externalTrafficPolicy Local, source
 * ranges or session affinity) to iptables-restore text and prints one JSON document.
 *
 * Each size and path runs in its own child process so that its peak RSS is its own. Timings:
 * - buildMs: objects → DesiredState (core);
 * - renderMs: DesiredState → restore text (renderIptablesText, what the daemon applies), the
 *   first time in the process (code not yet optimised by the JIT);
 * - warmRenderMs: the same again, as the daemon's next full sync would do it;
 * - rulesetRenderMs: DesiredState → typed Ruleset → serializeRuleset (the `rules` command's path).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { buildDesiredState } from '../src/core/desired/build.js';
import { KproxyError } from '../src/core/errors.js';
import { DEFAULT_PROXY_CONFIG, type ProxyConfig } from '../src/core/model/config.js';
import { DiagnosticSink } from '../src/core/model/diagnostics.js';
import { FULL_SYNC } from '../src/dataplanes/api.js';
import { FRESH_CURRENT_NODE } from '../src/dataplanes/iptables/host.js';
import { renderIptables, renderIptablesText } from '../src/dataplanes/iptables/render.js';
import { serializeRuleset } from '../src/dataplanes/iptables/serialize.js';
import { syntheticCluster } from './synthetic-cluster.js';

const SIZES = [1_000, 10_000, 30_000];

const CONFIG: ProxyConfig = {
  ...DEFAULT_PROXY_CONFIG,
  nodeName: 'node-0',
  nodeIPs: ['192.168.0.2'],
  clusterCIDRs: ['10.0.0.0/8'],
};

interface TextRun {
  readonly services: number;
  readonly endpoints: number;
  readonly buildMs: number;
  readonly renderMs: number;
  readonly warmRenderMs: number;
  readonly outputBytes: number;
  readonly rules: number;
  readonly sha256: string;
  readonly peakRssMB: number;
}

interface RulesetRun {
  readonly rulesetRenderMs: number;
  readonly sha256: string;
  readonly rulesetPeakRssMB: number;
}

type SizeResult = Omit<TextRun, 'sha256'> & Omit<RulesetRun, 'sha256'>;

function ms(since: bigint): number {
  return Math.round(Number(process.hrtime.bigint() - since) / 1e4) / 100;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function peakRssMB(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

function stateOf(services: number): { state: ReturnType<typeof buildDesiredState>; buildMs: number } {
  const objects = syntheticCluster(services);
  const t = process.hrtime.bigint();
  const state = buildDesiredState(objects, CONFIG, 'IPv4', new DiagnosticSink());
  return { state, buildMs: ms(t) };
}

/** The daemon's path: DesiredState → restore text, twice (each result dropped before the next). */
function runText(services: number): TextRun {
  const { state, buildMs } = stateOf(services);
  let t = process.hrtime.bigint();
  const text = renderIptablesText({ state, scope: FULL_SYNC, host: FRESH_CURRENT_NODE });
  const renderMs = ms(t);
  const outputBytes = Buffer.byteLength(text);
  const rules = text.split('\n').filter((l) => l.startsWith('-A ')).length;
  const digest = sha256(text);
  t = process.hrtime.bigint();
  const again = renderIptablesText({ state, scope: FULL_SYNC, host: FRESH_CURRENT_NODE });
  const warmRenderMs = ms(t);
  if (sha256(again) !== digest) throw new KproxyError('E_INTERNAL', 'rendering is not deterministic');
  return { services, endpoints: state.totalEndpoints, buildMs, renderMs, warmRenderMs, outputBytes, rules, sha256: digest, peakRssMB: peakRssMB() };
}

/** The `rules` command's path: DesiredState → typed Ruleset → serializeRuleset. */
function runRuleset(services: number): RulesetRun {
  const { state } = stateOf(services);
  const t = process.hrtime.bigint();
  const text = serializeRuleset(renderIptables({ state, scope: FULL_SYNC, host: FRESH_CURRENT_NODE }));
  return { rulesetRenderMs: ms(t), sha256: sha256(text), rulesetPeakRssMB: peakRssMB() };
}

function child(self: string, mode: string, size: number): unknown {
  const run = spawnSync(process.execPath, [self, mode, String(size)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (run.status !== 0) throw new KproxyError('E_INTERNAL', `bench ${mode} ${size} failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

function main(): void {
  const [mode, size] = [process.argv[2], Number(process.argv[3])];
  if (mode === '--text') {
    process.stdout.write(JSON.stringify(runText(size)));
    return;
  }
  if (mode === '--ruleset') {
    process.stdout.write(JSON.stringify(runRuleset(size)));
    return;
  }
  const self = fileURLToPath(import.meta.url);
  const results: SizeResult[] = [];
  for (const n of SIZES) {
    const { sha256: textDigest, ...text } = child(self, '--text', n) as TextRun;
    const { sha256: rulesetDigest, ...ruleset } = child(self, '--ruleset', n) as RulesetRun;
    if (textDigest !== rulesetDigest) throw new KproxyError('E_INTERNAL', `the two render paths disagree at ${n} services`);
    results.push({ ...text, ...ruleset });
  }
  const target = results.find((r) => r.services === 10_000);
  process.stdout.write(
    `${JSON.stringify(
      {
        benchmark: 'iptables-render',
        node: process.version,
        target: { services: 10_000, renderMsBelow: 1000, peakRssMBBelow: 500 },
        /** DesiredState → restore text under 1 s and 500 MB peak (what a full sync renders). */
        met: target !== undefined && target.renderMs < 1000 && target.peakRssMB < 500,
        /** The same with objects → DesiredState included. */
        metIncludingBuild: target !== undefined && target.buildMs + target.renderMs < 1000 && target.peakRssMB < 500,
        results,
      },
      null,
      2,
    )}\n`,
  );
}

main();
