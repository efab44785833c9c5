/**
 * `kproxy trace`: where one packet goes through a node's rules — an iptables-save dump or
 * restore input (`--rules DUMP`), or what kproxy renders for manifests (`-f PATH`): the path,
 * the verdict, masquerading and the exact distribution over endpoints. Also the rule loading
 * that explain, diff and graph share.
 */
import { Command, Option } from 'commander';
import { buildDesiredState } from '../../core/desired/build.js';
import type { DesiredState } from '../../core/desired/types.js';
import { KproxyError, isKproxyError } from '../../core/errors.js';
import { DiagnosticSink, formatDiagnostic } from '../../core/model/diagnostics.js';
import type { ClusterObjects, IPFamily } from '../../core/model/objects.js';
import { parseIP } from '../../core/net/ip.js';
import { FULL_SYNC } from '../../dataplanes/api.js';
import type { Ruleset } from '../../dataplanes/iptables/model.js';
import { renderIptablesFormat } from '../../dataplanes/iptables/render.js';
import { serializeRuleset } from '../../dataplanes/iptables/serialize.js';
import { readTextInput } from '../../runtime/io.js';
import { loadClusterObjects } from '../../runtime/sources/files.js';
import { programFromText } from '../../tracer/input.js';
import { EMPTY_IPSETS, parseIpsetSave, type IpsetStore } from '../../tracer/ipset.js';
import type { IrProgram } from '../../tracer/ir.js';
import type { TracePacket, TraceProtocol, TraceSource } from '../../tracer/packet.js';
import { formatTrace, traceJson } from '../../tracer/report.js';
import { trace } from '../../tracer/trace.js';
import { rulesRequestFromOptions, type RulesFlagValues } from './rules.js';
import { addProxyOptions } from '../options/proxy-options.js';
import { listenerNotes, userspaceTraceRules, type UserspaceTraceRules } from './trace-userspace.js';
import { collectRepeated } from '../options/repeatable.js';

/** A node's rules (iptables-save output, restore input or bare rule lines; `-` for stdin) as the tracer's program. */
export async function readDumpProgram(path: string): Promise<IrProgram> {
  return programFromText(await readTextInput(path), path === '-' ? 'stdin' : path);
}

/** The help text every command reading a dump shows after its options. */
export const DUMP_HELP = `
Rules (DUMP): the output of iptables-save or ip6tables-save (iptables 1.4-1.8, legacy or
nf_tables backend, with or without -c counters), iptables-restore input as kube-proxy writes
it, or bare rule lines (e.g. \`iptables-save | grep nginx\`: read as the nat table); - reads
stdin. Where the built-in chains carry no jumps into KUBE-* chains (restore input, a partial
dump), kube-proxy's standard jumps are assumed and the output says so.`;

/** The help text of the options that shape what kproxy renders for -f manifests. */
export const MANIFEST_HELP = `
Manifests (-f PATH): the rules kproxy would program for these objects, exactly as
\`kproxy rules\` prints them (iptables mode; trace also takes --proxy-mode userspace: the portal
rules, up to the proxy's listener). The proxy flags (--hostname-override,
--cluster-cidr, --masquerade-all, --config, ...) shape that rendering, as for \`kproxy rules\`,
and matter only with -f.`;

/** -f PATH and the options that shape what kproxy renders (as for `rules`). */
export function addManifestOptions(cmd: Command): Command {
  addProxyOptions(cmd);
  return cmd
    .option('-f, --filename <path>', 'Kubernetes objects: a YAML/JSON file, a folder or - for stdin (repeatable)', collectRepeated)
    .addOption(new Option('--format <format>', 'the kube-proxy format to render: current or legacy (1.18)').choices(['current', 'legacy']).default('current'))
    .option('--no-random-fully', 'render for an iptables without --random-fully')
    .option('--no-nfacct', 'render for a host without nfacct counters');
}

export interface Rendered {
  readonly ruleset: Ruleset;
  readonly state: DesiredState;
}

type RulesRequest = ReturnType<typeof rulesRequestFromOptions>;

/** Loads -f manifests for `command` (iptables mode only), printing warnings and diagnostics on stderr. */
async function withManifests<T>(
  opts: RulesFlagValues,
  family: IPFamily,
  command: string,
  build: (objects: ClusterObjects, request: RulesRequest, sink: DiagnosticSink) => T,
  modes: readonly string[] = ['iptables'],
): Promise<T> {
  const unsupported = (mode: string, cause?: unknown): KproxyError => {
    const why = mode === 'userspace' ? 'the userspace proxy picks endpoints in its own process, not in rules' : 'only iptables rules are traced so far';
    return new KproxyError('E_UNSUPPORTED', `${command} -f with --proxy-mode ${mode}: ${why}; give --proxy-mode iptables, or a dump with --rules`, { cause });
  };
  let request: RulesRequest;
  try {
    request = rulesRequestFromOptions({ ...opts, ipFamily: family === 'IPv6' ? 'ipv6' : 'ipv4', showJumps: false });
  } catch (e) {
    const mode = isKproxyError(e) && e.code === 'E_UNSUPPORTED' ? /--proxy-mode ([a-z]+)/.exec(e.message)?.[1] : undefined;
    throw mode === undefined ? e : unsupported(mode, e);
  }
  const mode = request.proxy.config.mode;
  if (!modes.includes(mode)) throw unsupported(mode);
  for (const w of request.proxy.warnings) process.stderr.write(`${formatDiagnostic(w)}\n`);
  const sink = new DiagnosticSink();
  try {
    return build(await loadClusterObjects(request.files, sink), request, sink);
  } finally {
    for (const d of sink.all) process.stderr.write(`${formatDiagnostic(d)}\n`);
  }
}

/** Manifests → what kproxy would program (the iptables restore input) for one family. */
export async function renderManifests(opts: RulesFlagValues, family: IPFamily, command: string): Promise<Rendered> {
  return withManifests(opts, family, command, (objects, request, sink) => {
    const state = buildDesiredState(objects, request.proxy.config, request.family, sink);
    const host = { capabilities: request.capabilities, existingNatChains: [] };
    return { ruleset: renderIptablesFormat({ state, scope: FULL_SYNC, host }, request.format), state };
  });
}

/** Manifests → kproxy's desired state of both IP families (to name chains by their hashes). */
export async function manifestStates(opts: RulesFlagValues, command: string): Promise<DesiredState[]> {
  return withManifests(opts, 'IPv4', command, (objects, request, sink) =>
    (['IPv4', 'IPv6'] as const).map((family) => buildDesiredState(objects, request.proxy.config, family, sink)),
  );
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
function parseHostPort(text: string, what: string): { ip: string; port: number } {
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
  /** What the command assumed about the node (shown with the trace's notes). */
  readonly notes: readonly string[];
  /** -f in userspace mode: the proxy's listeners by `proto/port`; null otherwise. */
  readonly listeners: UserspaceTraceRules['listeners'] | null;
}

function nodeIPsFrom(values: readonly string[]): string[] {
  return values.map((v) => {
    const ip = parseIP(v);
    if (ip === null) throw new KproxyError('E_USAGE', `--node-ip: not an IP address: "${v}"`);
    return ip.text;
  });
}

/** What `trace -f` traces: the restore text kproxy renders for the manifests, in the proxy mode asked for. */
async function renderForTrace(opts: TraceFlagValues, family: IPFamily): Promise<{ text: string; state: DesiredState; listeners: UserspaceTraceRules['listeners'] | null }> {
  return withManifests(
    opts,
    family,
    'trace',
    (objects, request, sink) => {
      if (request.proxy.config.mode === 'userspace') return userspaceTraceRules(objects, request, sink);
      const state = buildDesiredState(objects, request.proxy.config, request.family, sink);
      const host = { capabilities: request.capabilities, existingNatChains: [] };
      // Traced as the restore text `kproxy rules -f` prints, so each rule's line is a line of that text.
      return { text: serializeRuleset(renderIptablesFormat({ state, scope: FULL_SYNC, host }, request.format)), state, listeners: null };
    },
    ['iptables', 'userspace'],
  );
}

/** `--rules DUMP` or `-f PATH` (exactly one) → the IR, and the node's IPs (`--node-ip`, or the rendered state's). */
async function loadRules(opts: TraceFlagValues, family: IPFamily): Promise<LoadedRules> {
  const files = opts.filename ?? [];
  if ((opts.rules === undefined) === (files.length === 0)) {
    throw new KproxyError('E_USAGE', 'give the rules with either --rules DUMP (iptables-save output or restore input, - for stdin) or -f PATH (manifests)');
  }
  if (opts.rules !== undefined) {
    const nodeIPs = nodeIPsFrom(opts.nodeIp ?? []);
    const notes =
      nodeIPs.length === 0
        ? ['no --node-ip given: only 127.0.0.0/8 and ::1 are the node\'s own addresses (addrtype LOCAL), so NodePorts on its other addresses are not recognised']
        : [];
    return { program: await readDumpProgram(opts.rules), nodeIPs, notes, listeners: null };
  }
  const rendered = await renderForTrace(opts, family);
  const program = programFromText(rendered.text, 'the rendered rules');
  if (rendered.listeners !== null) {
    const notes = [
      'the rules are those kproxy\'s userspace mode programs for -f (the portal rules, then the jumps it installs); the kernel sends service traffic to the proxy\'s listeners, and the proxy picks the endpoint',
    ];
    return { program, nodeIPs: rendered.state.nodeIPs, notes, listeners: rendered.listeners };
  }
  const notes = ['the rules are those kproxy renders for -f (iptables mode); line numbers are lines of `kproxy rules` output for the same manifests and flags'];
  return { program, nodeIPs: rendered.state.nodeIPs, notes, listeners: null };
}

async function runTraceCommand(opts: TraceFlagValues): Promise<void> {
  const packet = packetFrom(opts);
  const family = parseIP(packet.dst)?.family ?? 'IPv4';
  const { program, nodeIPs, notes, listeners } = await loadRules(opts, family);
  const ipsets: IpsetStore = opts.ipset === undefined ? EMPTY_IPSETS : parseIpsetSave(await readTextInput(opts.ipset), opts.ipset);
  const traced = trace(program, packet, { nodeIPs, ipsets });
  const proxied = listeners === null ? [] : listenerNotes(traced, packet.protocol, listeners);
  const result = { ...traced, notes: [...traced.notes, ...notes, ...proxied] };
  if (opts.json === true) process.stdout.write(`${JSON.stringify(traceJson(result), null, 2)}\n`);
  else process.stdout.write(formatTrace(packet, result));
}

/** Rewords an option added by a shared helper, for this command's help. */
export function describeOption(cmd: Command, flag: string, description: string): void {
  const option = cmd.options.find((o) => o.long === flag || o.short === flag);
  if (option !== undefined) option.description = description;
}

export function registerTraceCommand(program: Command): void {
  const cmd = program
    .command('trace')
    .description(
      'Trace one packet through a node\'s rules (an iptables-save dump, restore input, or what kproxy renders for -f manifests): ' +
        'the rules it meets, the verdict (DNAT, REJECT, DROP, ACCEPT, NO_SERVICE), masquerading, and the exact probability of each endpoint ' +
        '(both outcomes of every random rule, with the kernel\'s rounding). With session affinity, also a returning client.',
    )
    .option('--rules <dump>', 'the node\'s rules: iptables-save output, iptables-restore input or bare rule lines (- for stdin); or use -f')
    .option('--src <ip>', 'source address of the packet (required)')
    .option('--dst <ip:port>', 'destination address and port, IPv6 as [ip]:port (required)')
    .addOption(new Option('--proto <protocol>', 'transport protocol (required)').choices(['tcp', 'udp', 'sctp']))
    .addOption(
      new Option('--from <where>', 'where the packet comes from (required): a pod on this node (PREROUTING), the node itself (OUTPUT), or outside (PREROUTING on eth0)').choices([
        'pod',
        'node',
        'external',
      ]),
    )
    .option('--sport <port>', 'source port (default 40000; kube-proxy\'s rules do not look at it)')
    .option('--ipset <file>', 'contents of the IP sets that -m set rules use: the output of `ipset save` (a rule naming an unknown set stops the trace)')
    .option('--in-iface <name>', 'input interface (default: eth0 from outside, none from the node, unknown from a pod: a rule testing -i then stops the trace)')
    .option('--out-iface <name>', 'output interface after routing (default unknown: a rule testing -o then stops the trace)')
    .option('--mark <n>', 'packet mark on arrival, decimal or 0x hex (default 0)')
    .option('--json', 'print only JSON on stdout: {verdict, distribution, masquerade, path, returning, stickiness, outcomes, notes, ...}');
  addManifestOptions(cmd);
  describeOption(
    cmd,
    '--node-ip',
    'an address of the node (repeatable): with --rules, the addresses addrtype LOCAL matches besides 127.0.0.0/8 and ::1 (NodePorts); with -f, as for `kproxy rules`',
  );
  cmd.addHelpText('after', `${DUMP_HELP}\n${MANIFEST_HELP}\n`);
  cmd.action(async (opts: TraceFlagValues) => {
    await runTraceCommand(opts);
  });
}
