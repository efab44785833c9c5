/**
 * `kproxy graph DUMP [--service ns/name] --out FILE.html|FILE.svg`: a picture of the chains a
 * service's traffic walks from each entry point to its endpoints or to the REJECT / DROP that
 * stops it, edges labelled with exact probabilities and the conditions on the source.
 */
import type { Command } from 'commander';
import { KproxyError } from '../../core/errors.js';
import { writeTextOutput } from '../../runtime/io.js';
import { explainProgram } from '../../tracer/explain.js';
import { buildServiceGraph, renderHtml, renderSvg } from '../../tracer/graph.js';
import { DUMP_HELP, readDumpProgram } from './trace.js';

interface GraphFlagValues {
  readonly service?: string;
  readonly out?: string;
}

async function runGraph(dump: string, opts: GraphFlagValues): Promise<void> {
  const out = opts.out;
  if (out === undefined || !/\.(html?|svg)$/i.test(out)) throw new KproxyError('E_USAGE', 'graph: give --out FILE.html or --out FILE.svg');
  const program = await readDumpProgram(dump);
  const explanation = explainProgram(program);
  const wanted = opts.service;
  const selected = wanted === undefined ? [] : explanation.services.filter((s) => s.name === wanted || `${s.name}:${s.port}` === wanted);
  if (wanted !== undefined && selected.length === 0) {
    const known = explanation.services.map((s) => s.name).filter((n, i, all) => all.indexOf(n) === i);
    throw new KproxyError('E_INPUT', `graph: no service ${wanted} in ${dump} (found: ${known.join(', ') || 'none'})`);
  }
  if (explanation.services.length === 0) throw new KproxyError('E_INPUT', `graph: no kube-proxy service found in ${dump}`);
  for (const note of program.notes) process.stderr.write(`kproxy: note: ${note}\n`);
  const graph = buildServiceGraph(program, explanation, selected);
  if (graph.sections.length === 0) throw new KproxyError('E_INPUT', `graph: the rules hold no entry point (cluster IP, node port, external or load-balancer IP) of ${wanted ?? 'any service'}`);
  writeTextOutput(out, /\.svg$/i.test(out) ? renderSvg(graph) : renderHtml(graph));
  process.stderr.write(`kproxy: wrote ${out} (${graph.sections.length} entry point(s))\n`);
}

export function registerGraphCommand(program: Command): void {
  program
    .command('graph')
    .argument('<dump>', 'the node\'s rules: iptables-save output, iptables-restore input or bare rule lines (- for stdin)')
    .description(
      'Draw the chains a service\'s traffic walks from each of its entry points (cluster IP, node ports, external and ' +
        'load-balancer IPs) to its endpoints, or to the REJECT or DROP that stops it (no endpoints, no local endpoints, ' +
        'a source outside loadBalancerSourceRanges), edges labelled with exact probabilities (the kernel\'s rounding) and, ' +
        'where only some sources take them, the condition on the source (e.g. -s 198.51.100.1/32); as a self-contained ' +
        'SVG or an HTML page around it. All services without --service.',
    )
    .option('--service <ns/name>', 'only this service (ns/name, or ns/name:port for one port)')
    .option('--out <file>', 'where to write (required): FILE.svg, or FILE.html for a page with a legend')
    .addHelpText('after', `${DUMP_HELP}\n`)
    .action(async (dump: string, opts: GraphFlagValues) => {
      await runGraph(dump, opts);
    });
}
