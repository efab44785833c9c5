/**
 * `kproxy demo` (what `npm start` runs): the article's example on the real kernel — see
 * src/cli/demo/run-demo.ts. Without root or the tools, it says what is missing and prints what the
 * chosen mode would program instead.
 */
import { Command, Option } from 'commander';
import { KproxyError } from '../../core/errors.js';
import { checkProxyMode } from '../options/validate.js';
import { DiagnosticSink, formatDiagnostic } from '../../core/model/diagnostics.js';
import type { ClusterObjects } from '../../core/model/objects.js';
import { onPath } from '../../runtime/exec/index.js';
import { clusterObjectsFromDocuments, loadClusterObjects, parseManifestText } from '../../runtime/sources/files.js';
import { DEFAULT_DEMO_MANIFESTS } from '../demo/default-manifests.js';
import { checkDemoMode, offlineDemo } from '../demo/offline.js';
import { formatReport } from '../demo/report.js';
import { runDemo } from '../demo/run-demo.js';
import { collectRepeated } from '../options/repeatable.js';

export interface DemoFlags {
  readonly mode?: string;
  readonly proxyMode?: string;
  readonly filename?: readonly string[];
  readonly json?: boolean;
  readonly requests: string;
}

const TOOLS = ['ip', 'iptables', 'iptables-restore', 'iptables-save', 'conntrack'];

/** What keeps the demo from running on this machine (empty when nothing). */
function demoBlockers(): string[] {
  const out: string[] = [];
  if (process.platform !== 'linux') out.push(`Linux (this is ${process.platform})`);
  if (process.getuid?.() !== 0) out.push('root (network namespaces and iptables need it)');
  const missing = TOOLS.filter((t) => !onPath(t));
  if (missing.length > 0) out.push(`${missing.join(', ')} (Debian packages: iproute2 iptables conntrack)`);
  return out;
}

export async function loadDemoObjects(files: readonly string[], sink: DiagnosticSink): Promise<ClusterObjects> {
  // The sandbox runs the Deployments: their Services do get endpoints.
  const options = { deploymentsExpanded: true };
  if (files.length > 0) return loadClusterObjects(files, sink, options);
  const docs = parseManifestText(DEFAULT_DEMO_MANIFESTS, 'embedded:article-nginx.yaml', sink);
  return clusterObjectsFromDocuments(docs, sink, options);
}

/** Where the demo command writes, and what keeps it from running: process's own, or a test's. */
export interface DemoIO {
  readonly blockers: () => string[];
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const PROCESS_IO: DemoIO = {
  blockers: demoBlockers,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Runs `kproxy demo`; returns the exit status (1 when it could only show what it would program). */
export async function demoCommand(opts: DemoFlags, io: DemoIO = PROCESS_IO): Promise<number> {
  const modeText = opts.proxyMode ?? opts.mode ?? 'iptables';
  const mode = checkProxyMode(modeText);
  if (!mode.ok) throw new KproxyError('E_USAGE', `--mode: ${mode.error}`);
  const demoMode = checkDemoMode(mode.value);
  const requests = Number(opts.requests);
  if (!Number.isInteger(requests) || requests < 1) throw new KproxyError('E_USAGE', `--requests: "${opts.requests}" is not a positive number`);
  const sink = new DiagnosticSink();
  const objects = await loadDemoObjects(opts.filename ?? [], sink);
  // "not set" diagnostics are fields the sandbox allocates (cluster IPs, node ports).
  for (const d of sink.all) if (!d.message.startsWith('not set')) io.stderr(`${formatDiagnostic(d)}\n`);
  if (objects.services.length === 0) {
    throw new KproxyError('E_INPUT', `${(opts.filename ?? []).join(', ')}: no Service, so the demo has nothing to send traffic to`);
  }

  const blockers = io.blockers();
  if (blockers.length > 0) {
    const offline = offlineDemo(objects, demoMode);
    if (opts.json === true) {
      // --json promises JSON only on stdout: what is missing and what would be programmed, as fields.
      io.stdout(`${JSON.stringify({ mode: demoMode, error: `needs ${blockers.join('; and ')}`, rules: offline.text }, null, 2)}\n`);
      return 1;
    }
    io.stderr(
      `kproxy demo needs ${blockers.join('; and ')}.\n` +
        'It runs on the real kernel inside network namespaces it creates and removes.\n' +
        `Here is what it would program on the node instead, in ${demoMode} mode: ${offline.what}:\n\n`,
    );
    io.stdout(offline.text);
    return 1;
  }
  const progress = (m: string): void => {
    io.stderr(`kproxy demo: ${m}\n`);
  };
  const outcome = await runDemo(objects, { mode: demoMode, requests, progress });
  if (opts.json === true) {
    const results = outcome.report.results.map(({ service: _service, ...rest }) => rest);
    io.stdout(`${JSON.stringify({ mode: outcome.report.mode, results }, null, 2)}\n`);
    return 0;
  }
  io.stdout(`\n${formatReport(outcome.report, outcome.pods)}\n\n`);
  io.stdout(`The KUBE-* rules kproxy programmed, as iptables-save shows them in the node:\n\n${outcome.rules}\n`);
  return 0;
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
    .option('-f, --filename <path>', 'run the demo on these manifests instead of the embedded example (repeatable)', collectRepeated)
    .option('--json', 'print only JSON on stdout: {mode, results}; where the demo cannot run (exit 1), {mode, error, rules}')
    .option('--requests <n>', 'requests per traffic source', '300')
    .action(async (opts: DemoFlags) => {
      process.exitCode = await demoCommand(opts);
    });
}
