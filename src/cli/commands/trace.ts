/**
 * `kproxy trace`: where one packet goes through a node's rules — an iptables-save dump or
 * restore input (`--rules DUMP`), or what kproxy renders for manifests (`-f PATH`): the path,
 * the verdict, masquerading and the exact distribution over endpoints. Also the rule loading
 * that explain, diff and graph share.
 */
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { buildDesiredState } from '../../core/desired/build.js';
import type { DesiredState } from '../../core/desired/types.js';
import { KproxyError } from '../../core/errors.js';
import { DiagnosticSink, formatDiagnostic } from '../../core/model/diagnostics.js';
import type { IPFamily } from '../../core/model/objects.js';
import { parseIP } from '../../core/net/ip.js';
import { FULL_SYNC } from '../../dataplanes/api.js';
import type { Ruleset } from '../../dataplanes/iptables/model.js';
import { parseIptables } from '../../dataplanes/iptables/parse.js';
import { renderIptablesFormat } from '../../dataplanes/iptables/render.js';
import { loadClusterObjects } from '../../runtime/sources/files.js';
import { EMPTY_IPSETS, parseIpsetSave, type IpsetStore } from '../../tracer/ipset.js';
import { lowerIptables } from '../../tracer/lower-iptables.js';
import type { IrProgram } from '../../tracer/ir.js';
import type { TracePacket, TraceProtocol, TraceSource } from '../../tracer/packet.js';
import { formatTrace, traceJson } from '../../tracer/report.js';
import { trace } from '../../tracer/trace.js';
import { rulesRequestFromOptions, type RulesFlagValues } from './rules.js';
import { addProxyOptions } from '../options/proxy-options.js';

function collect(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Reads a file, or stdin for `-`. */
export async function readInput(path: string): Promise<string> {
  if (path !== '-') return readFile(path, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export async function readDump(path: string): Promise<Ruleset> {
  return parseIptables(await readInput(path), path === '-' ? 'stdin' : path);
}

/** -f PATH and the options that shape what kproxy renders (as for `rules`). */
export function addManifestOptions(cmd: Command): Command {
  addProxyOptions(cmd);
  return cmd
    .option('-f, --filename <path>', 'Kubernetes objects: a YAML/JSON file, a folder or - for stdin (repeatable)', collect)
    .addOption(new Option('--format <format>', 'the kube-proxy format to render: current or legacy (1.18)').choices(['current', 'legacy']).default('current'))
    .option('--no-random-fully', 'render for an iptables without --random-fully')
    .option('--no-nfacct', 'render for a host without nfacct counters');
}

export interface Rendered {
  readonly ruleset: Ruleset;
  readonly state: DesiredState;
}

/** Manifests → what kproxy would program (the iptables restore input) for one family. */
export async function renderManifests(opts: RulesFlagValues, family: IPFamily): Promise<Rendered> {
  const request = rulesRequestFromOptions({ ...opts, ipFamily: family === 'IPv6' ? 'ipv6' : 'ipv4', showJumps: false });
  for (const w of request.proxy.warnings) process.stderr.write(`kproxy: warning: ${w}\n`);
  const sink = new DiagnosticSink();
  try {
    const objects = await loadClusterObjects(request.files, sink);
    const state = buildDesiredState(objects, request.proxy.config, request.family, sink);
    const host = { capabilities: request.capabilities, existingNatChains: [] };
    return { ruleset: renderIptablesFormat({ state, scope: FULL_SYNC, host }, request.format), state };
  } finally {
    for (const d of sink.all) process.stderr.write(`${formatDiagnostic(d)}\n`);
  }
}

interface TraceFlagValues extends RulesFlagValues {
  readonly rules?: string;
  readonly src?: string;
  readonly dst?: string;
  readonly proto?: string;
  readonly from?: string;
  readonly sport?: string;
  readonly ipset?: string;
  readonly inIface?: string;
  readonly outIface?: string;
  readonly mark?: string;
  readonly json?: boolean;
}

/** `IP:PORT` or `[IPv6]:PORT`. */
export function parseHostPort(text: string, what: string): { ip: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  const ip = m === null ? null : parseIP(m[1] ?? '');
  const port = Number(m?.[2]);
  if (ip === null || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new KproxyError('E_USAGE', `${what}: expected IP:PORT (IPv6 as [IP]:PORT), got "${text}"`);
  }
  return { ip: ip.text, port };
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new KproxyError('E_USAGE', `trace: ${flag} is required`);
  return value;
}

function packetFrom(opts: TraceFlagValues): TracePacket {
  const src = parseIP(required(opts.src, '--src IP'));
  if (src === null) throw new KproxyError('E_USAGE', `--src: not an IP address: ${opts.src ?? ''}`);
  const dst = parseHostPort(required(opts.dst, '--dst IP:PORT'), '--dst');
  if (parseIP(dst.ip)?.family !== src.family) throw new KproxyError('E_USAGE', '--src and --dst must be of one IP family');
  const sport = opts.sport === undefined ? 40000 : Number(opts.sport);
  if (!Number.isInteger(sport) || sport < 1 || sport > 65535) throw new KproxyError('E_USAGE', `--sport: not a port: ${opts.sport ?? ''}`);
  const mark = opts.mark === undefined ? 0 : Number(opts.mark);
  if (!Number.isInteger(mark) || mark < 0 || mark > 0xffffffff) throw new KproxyError('E_USAGE', `--mark: not a 32-bit number: ${opts.mark ?? ''}`);
  return {
    src: src.text,
    dst: dst.ip,
    dport: dst.port,
    sport,
    protocol: required(opts.proto, '--proto tcp|udp|sctp') as TraceProtocol,
    from: required(opts.from, '--from pod|node|external') as TraceSource,
    mark,
    ...(opts.inIface === undefined ? {} : { inInterface: opts.inIface }),
    ...(opts.outIface === undefined ? {} : { outInterface: opts.outIface }),
  };
}

export interface LoadedRules {
  readonly program: IrProgram;
  readonly nodeIPs: readonly string[];
}

/** `--rules DUMP` or `-f PATH` (exactly one) → the IR, and the node's IPs (`--node-ip`, or the rendered state's). */
export async function loadRules(opts: TraceFlagValues, family: IPFamily): Promise<LoadedRules> {
  const files = opts.filename ?? [];
  if ((opts.rules === undefined) === (files.length === 0)) {
    throw new KproxyError('E_USAGE', 'give the rules with either --rules DUMP (iptables-save output or restore input, - for stdin) or -f PATH (manifests)');
  }
  if (opts.rules !== undefined) {
    return { program: lowerIptables(await readDump(opts.rules)), nodeIPs: opts.nodeIp ?? [] };
  }
  const rendered = await renderManifests(opts, family);
  return { program: lowerIptables(rendered.ruleset), nodeIPs: rendered.state.nodeIPs };
}

async function runTraceCommand(opts: TraceFlagValues): Promise<void> {
  const packet = packetFrom(opts);
  const family = parseIP(packet.dst)?.family ?? 'IPv4';
  const { program, nodeIPs } = await loadRules(opts, family);
  const ipsets: IpsetStore = opts.ipset === undefined ? EMPTY_IPSETS : parseIpsetSave(await readInput(opts.ipset), opts.ipset);
  const result = trace(program, packet, { nodeIPs, ipsets });
  if (opts.json === true) process.stdout.write(`${JSON.stringify(traceJson(result), null, 2)}\n`);
  else process.stdout.write(formatTrace(packet, result));
}

export function registerTraceCommand(program: Command): void {
  const cmd = program
    .command('trace')
    .description(
      'Trace one packet through a node\'s rules (an iptables-save dump, restore input, or what kproxy renders for -f manifests): ' +
        'the rules it meets, the verdict (DNAT, REJECT, DROP, ACCEPT, NO_SERVICE), masquerading, and the exact probability of each endpoint ' +
        '(both outcomes of every random rule, with the kernel\'s rounding). With session affinity, also a returning client.',
    )
    .option('--rules <dump>', 'iptables-save output or iptables-restore input (- for stdin)')
    .option('--src <ip>', 'source address of the packet')
    .option('--dst <ip:port>', 'destination address and port ([IPv6]:port)')
    .addOption(new Option('--proto <protocol>', 'transport protocol').choices(['tcp', 'udp', 'sctp']))
    .addOption(new Option('--from <where>', 'where the packet comes from: a pod on this node, the node itself, or outside').choices(['pod', 'node', 'external']))
    .option('--sport <port>', 'source port (default 40000)')
    .option('--ipset <file>', 'contents of the IP sets the rules use (ipset save output)')
    .option('--in-iface <name>', 'input interface (default: eth0 from outside, none from the node, unknown from a pod)')
    .option('--out-iface <name>', 'output interface after routing (default unknown)')
    .option('--mark <n>', 'packet mark on arrival (default 0)')
    .option('--json', 'print only JSON on stdout');
  addManifestOptions(cmd);
  cmd.action(async (opts: TraceFlagValues) => {
    await runTraceCommand(opts);
  });
}
