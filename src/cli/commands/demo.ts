/**
 * `kproxy demo` (what `npm start` runs): the article's example on the real kernel — see
 * src/cli/demo/run-demo.ts. Without root or the tools, it says what is missing and prints the
 * rules it would program instead.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { KproxyError } from '../../core/errors.js';
import { checkProxyMode } from '../options/validate.js';
import { decodeObjects } from '../../core/k8s/decode.js';
import { completeEndpointSlices } from '../../core/k8s/endpoint-slices.js';
import { resolveConflicts } from '../../core/k8s/conflicts.js';
import { DiagnosticSink, formatDiagnostic } from '../../core/model/diagnostics.js';
import type { ClusterObjects } from '../../core/model/objects.js';
import { loadClusterObjects, parseManifestText } from '../../runtime/sources/files.js';
import { DEFAULT_DEMO_MANIFESTS } from '../demo/default-manifests.js';
import { offlineRules } from '../demo/offline.js';
import { formatReport } from '../demo/report.js';
import { runDemo } from '../demo/run-demo.js';

interface DemoFlags {
  readonly mode?: string;
  readonly proxyMode?: string;
  readonly filename?: readonly string[];
  readonly json?: boolean;
  readonly requests: string;
}

const TOOLS = ['ip', 'iptables', 'iptables-restore', 'iptables-save', 'conntrack'];

function onPath(tool: string): boolean {
  return (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').some((dir) => {
    try {
      accessSync(path.join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** What keeps the demo from running on this machine (empty when nothing). */
export function demoBlockers(): string[] {
  const out: string[] = [];
  if (process.platform !== 'linux') out.push(`Linux (this is ${process.platform})`);
  if (process.getuid?.() !== 0) out.push('root (network namespaces and iptables need it)');
  const missing = TOOLS.filter((t) => !onPath(t));
  if (missing.length > 0) out.push(`${missing.join(', ')} (Debian packages: iproute2 iptables conntrack)`);
  return out;
}

function collect(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

async function loadDemoObjects(files: readonly string[], sink: DiagnosticSink): Promise<ClusterObjects> {
  if (files.length > 0) return loadClusterObjects(files, sink);
  const docs = parseManifestText(DEFAULT_DEMO_MANIFESTS, 'embedded:article-nginx.yaml', sink);
  return completeEndpointSlices(resolveConflicts(decodeObjects(docs, sink), sink), sink);
}

async function demo(opts: DemoFlags): Promise<void> {
  const modeText = opts.proxyMode ?? opts.mode ?? 'iptables';
  const mode = checkProxyMode(modeText);
  if (!mode.ok) throw new KproxyError('E_USAGE', `--mode: ${mode.error}`);
  const requests = Number(opts.requests);
  if (!Number.isInteger(requests) || requests < 1) throw new KproxyError('E_USAGE', `--requests: "${opts.requests}" is not a positive number`);
  const sink = new DiagnosticSink();
  const objects = await loadDemoObjects(opts.filename ?? [], sink);
  // "not set" diagnostics are fields the sandbox allocates (cluster IPs, node ports).
  for (const d of sink.all) if (!d.message.startsWith('not set')) process.stderr.write(`${formatDiagnostic(d)}\n`);

  const blockers = demoBlockers();
  if (blockers.length > 0) {
    process.stderr.write(
      `kproxy demo needs ${blockers.join('; and ')}.\n` +
        'It runs on the real kernel inside network namespaces it creates and removes.\n' +
        'Here are the rules it would program on the node instead (iptables-restore input):\n\n',
    );
    process.stdout.write(offlineRules(objects));
    process.exitCode = 1;
    return;
  }
  const progress = (m: string): void => {
    process.stderr.write(`kproxy demo: ${m}\n`);
  };
  const outcome = await runDemo(objects, { mode: mode.value, requests, progress });
  if (opts.json === true) {
    const results = outcome.report.results.map(({ service: _service, ...rest }) => rest);
    process.stdout.write(`${JSON.stringify({ mode: outcome.report.mode, results }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`\n${formatReport(outcome.report, outcome.pods)}\n\n`);
  process.stdout.write(`The KUBE-* rules kproxy programmed, as iptables-save shows them in the node:\n\n${outcome.rules}\n`);
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      "Run the article's example for real: a sandbox node with 3 nginx pods, the proxy, 300 requests " +
        'each from a pod and from the node to the ClusterIP and from outside to the NodePort; prints ' +
        'how many each pod answered and the rules, then removes the sandbox. Needs root.',
    )
    .addOption(new Option('--mode <mode>', 'the dataplane (kube-proxy --proxy-mode)').default('iptables'))
    .option('--proxy-mode <mode>', 'kube-proxy\'s name for --mode')
    .option('-f, --filename <path>', 'run the demo on these manifests instead of the embedded example (repeatable)', collect)
    .option('--json', 'print only the results as JSON on stdout')
    .option('--requests <n>', 'requests per traffic source', '300')
    .action(async (opts: DemoFlags) => {
      await demo(opts);
    });
}
