/**
 * `kproxy rules`: the rules kube-proxy would program for the given objects, printed as the text
 * its tool reads (iptables-restore input), or with --show-jumps the rules it installs in the
 * built-in chains. Offline, the host is assumed to be a current node.
 */
import { Command, Option } from 'commander';
import { buildDesiredState } from '../../core/desired/build.js';
import { noteFilteredObjects } from '../../core/desired/proxy-filter.js';
import { KproxyError } from '../../core/errors.js';
import { DiagnosticSink, formatDiagnostic, type Diagnostic } from '../../core/model/diagnostics.js';
import type { DesiredState } from '../../core/desired/types.js';
import type { ClusterObjects, IPFamily } from '../../core/model/objects.js';
import type { RuleFormat } from '../../core/naming/service-port-name.js';
import { FULL_SYNC } from '../../dataplanes/api.js';
import { CURRENT_NODE_CAPABILITIES, type IptablesCapabilities } from '../../dataplanes/iptables/host.js';
import { installedJumpText } from '../../dataplanes/iptables/jumps-text.js';
import type { Ruleset } from '../../dataplanes/iptables/model.js';
import { renderIptablesFormat } from '../../dataplanes/iptables/render.js';
import { serializeRuleset } from '../../dataplanes/iptables/serialize.js';
import { userspaceJumpText } from '../../dataplanes/userspace/jumps.js';
import { offlineUserspace } from '../../dataplanes/userspace/offline.js';
import { proxyPortRange } from '../../dataplanes/userspace/ports.js';
import type { ConnectionOptions } from '../../runtime/kube/kubeconfig.js';
import { loadApiObjects } from '../../runtime/kube/snapshot.js';
import { loadClusterObjects } from '../../runtime/sources/files.js';
import { addConnectionOptions, type ConnectionFlagValues } from '../options/operational.js';
import { loadKubeProxyConfiguration, type KubeProxyConfigFile } from '../options/kube-proxy-config.js';
import {
  addProxyOptions,
  proxyConfigFromOptions,
  type ProxyFlagValues,
  type ResolvedProxyOptions,
} from '../options/proxy-options.js';
import { collectRepeated } from '../options/repeatable.js';

/** What commander collects for `rules`. */
export interface RulesFlagValues extends ProxyFlagValues, ConnectionFlagValues {
  readonly filename?: readonly string[];
  readonly ipFamily?: string;
  readonly showJumps?: boolean;
  readonly format?: string;
  readonly randomFully?: boolean;
  readonly nfacct?: boolean;
}

export interface RulesRequest {
  readonly files: readonly string[];
  /** --kubeconfig / --master: list the objects from the API once instead of reading files. */
  readonly connection?: ConnectionOptions;
  readonly family: IPFamily;
  readonly format: RuleFormat;
  readonly showJumps: boolean;
  readonly capabilities: IptablesCapabilities;
  readonly proxy: ResolvedProxyOptions;
}

function addRulesOptions(cmd: Command): Command {
  addConnectionOptions(addProxyOptions(cmd));
  return cmd
    .option('-f, --filename <path>', 'Kubernetes objects: a YAML/JSON file, a folder (read recursively) or - for stdin (repeatable)', collectRepeated)
    .addOption(new Option('--ip-family <family>', 'which family to render').choices(['ipv4', 'ipv6']).default('ipv4'))
    .addOption(
      new Option('--format <format>', 'current: today\'s kube-proxy; legacy: kube-proxy 1.18 (names and chains as in older blog posts)')
        .choices(['current', 'legacy'])
        .default('current'),
    )
    .option('--show-jumps', 'print the rules kube-proxy inserts in the built-in chains (PREROUTING, OUTPUT, POSTROUTING, INPUT, FORWARD) instead')
    .option('--no-random-fully', 'the host\'s iptables lacks --random-fully (older than 1.6.2)')
    .option('--no-nfacct', 'the host has no nfacct counters (no -m nfacct matches)');
}

function familyOf(text: string | undefined): IPFamily {
  switch (text ?? 'ipv4') {
    case 'ipv4':
      return 'IPv4';
    case 'ipv6':
      return 'IPv6';
    default:
      throw new KproxyError('E_USAGE', `--ip-family: must be ipv4 or ipv6 (got "${text ?? ''}")`);
  }
}

function formatOf(text: string | undefined): RuleFormat {
  switch (text ?? 'current') {
    case 'current':
      return 'current';
    case 'legacy':
      return 'legacy';
    default:
      throw new KproxyError('E_USAGE', `--format: must be current or legacy (got "${text ?? ''}")`);
  }
}

/** Parses `rules` arguments (without the command name) into flag values; throws on bad usage. */
export function parseRulesFlags(args: readonly string[]): RulesFlagValues {
  const cmd = addRulesOptions(new Command('rules')).exitOverride().configureOutput({ writeErr: () => undefined });
  try {
    cmd.parse([...args], { from: 'user' });
  } catch (err) {
    throw new KproxyError('E_USAGE', err instanceof Error ? err.message : String(err), { cause: err });
  }
  return cmd.opts<RulesFlagValues>();
}

/**
 * Where `rules` lists the objects from when no -f is given, as kube-proxy decides it: the
 * kubeconfig (--kubeconfig, or with --config the file's clientConnection.kubeconfig, which
 * replaces the flag there as in kube-proxy), --master, or the in-cluster service account when
 * run in a pod (KUBERNETES_SERVICE_HOST set). Undefined when there is none of them.
 */
export function apiConnectionFor(
  opts: ConnectionFlagValues,
  configFile: KubeProxyConfigFile | undefined,
  env: NodeJS.ProcessEnv,
): ConnectionOptions | undefined {
  const kubeconfig = configFile === undefined ? (opts.kubeconfig ?? '') : configFile.config.clientConnection.kubeconfig;
  const master = opts.master ?? '';
  const inPod = (env['KUBERNETES_SERVICE_HOST'] ?? '') !== '';
  return kubeconfig !== '' || master !== '' || inPod ? { kubeconfig, master } : undefined;
}

export function rulesRequestFromOptions(opts: RulesFlagValues, env: NodeJS.ProcessEnv = process.env): RulesRequest {
  const configFile = opts.config === undefined ? undefined : loadKubeProxyConfiguration(opts.config);
  const replacedByFile = configFile !== undefined && opts.kubeconfig !== undefined ? ['--kubeconfig'] : [];
  const proxy = proxyConfigFromOptions(opts, configFile, replacedByFile);
  if (proxy.config.mode !== 'iptables' && proxy.config.mode !== 'userspace') {
    throw new KproxyError('E_UNSUPPORTED', `rules --proxy-mode ${proxy.config.mode}: not available yet (iptables and userspace only)`);
  }
  const files = opts.filename ?? [];
  const connectionFlagsGiven = opts.kubeconfig !== undefined || opts.master !== undefined;
  if (connectionFlagsGiven && files.length > 0) throw new KproxyError('E_USAGE', 'rules: -f PATH and --kubeconfig/--master exclude each other');
  const connection = files.length > 0 ? undefined : apiConnectionFor(opts, configFile, env);
  if (files.length === 0 && connection === undefined) {
    throw new KproxyError(
      'E_USAGE',
      'rules: give the objects with -f PATH (a file, a folder or -), or a cluster with --kubeconfig PATH ' +
        '(or --config FILE with clientConnection.kubeconfig, or run in a pod for the in-cluster service account)',
    );
  }
  return {
    files,
    ...(connection === undefined ? {} : { connection }),
    family: familyOf(opts.ipFamily),
    format: formatOf(opts.format),
    showJumps: opts.showJumps === true,
    capabilities: {
      ...CURRENT_NODE_CAPABILITIES,
      randomFully: opts.randomFully !== false,
      nfacctInvalidDropped: opts.nfacct !== false,
      nfacctLocalhostNodePorts: opts.nfacct !== false,
      tcpBeLiberal: proxy.conntrackTCPBeLiberal,
    },
    proxy,
  };
}

/** Objects → the rendered ruleset of the requested family and format. */
export function renderRulesFor(objects: ClusterObjects, request: RulesRequest, sink: DiagnosticSink): Ruleset {
  const config = request.proxy.config;
  if (config.mode !== 'iptables') {
    throw new KproxyError('E_UNSUPPORTED', `rules --proxy-mode ${config.mode}: not available yet (iptables only)`);
  }
  const state = buildDesiredState(objects, config, request.family, sink);
  const host = { capabilities: request.capabilities, existingNatChains: [] };
  return renderIptablesFormat({ state, scope: FULL_SYNC, host }, request.format);
}

/** `rules --proxy-mode userspace`: the listener plan (as comments) and the portal rules, or the jumps. */
function userspaceRulesText(objects: ClusterObjects, request: RulesRequest, sink: DiagnosticSink): string {
  const tool = request.family === 'IPv6' ? 'ip6tables' : 'iptables';
  if (request.showJumps) return userspaceJumpText(tool);
  const config = request.proxy.config;
  const range = proxyPortRange(config.proxyPortRange);
  const state = buildDesiredState(objects, config, request.family, sink);
  const listenIP = request.family === 'IPv6' ? '::' : '0.0.0.0';
  const hostIP = state.nodeIPs[0] ?? '';
  // Offline the machine's own interfaces say nothing about the node: leave out what needs its address.
  const out = offlineUserspace(state, { range, host: { listenIP, hostIP }, unknownHostIP: 'omit' });
  if (out.omittedHostRules > 0) sink.add(unknownNodeAddressWarning(state, out.omittedHostRules, out.omittedServicePorts));
  return out.text;
}

/** The one warning for the host-chain rules left out (a diagnostic about the --node-ip option). */
export function unknownNodeAddressWarning(state: DesiredState, rules: number, servicePorts: readonly string[]): Diagnostic {
  const shown = servicePorts.slice(0, 3).join(', ') + (servicePorts.length > 3 ? `, and ${servicePorts.length - 3} more` : '');
  const message =
    `userspace mode: this node's ${state.family} address is unknown (no Node object named "${state.nodeName}" with one, no --node-ip), ` +
    `so the ${rules} rule(s) for traffic from the node itself (KUBE-PORTALS-HOST, KUBE-NODEPORT-HOST), which DNAT to that address, ` +
    `are left out (for ${shown}); give --node-ip or the Node object to see them`;
  return { severity: 'warning', source: { file: 'flags', document: 0, options: true }, kind: '', object: '', field: '--node-ip', message };
}

/** The text `rules` prints on stdout. */
function rulesOutput(ruleset: Ruleset, request: RulesRequest): string {
  if (!request.showJumps) return serializeRuleset(ruleset);
  return installedJumpText(ruleset, request.format, request.family);
}

async function runRules(opts: RulesFlagValues): Promise<void> {
  const request = rulesRequestFromOptions(opts);
  for (const w of request.proxy.warnings) process.stderr.write(`${formatDiagnostic(w)}\n`);
  const sink = new DiagnosticSink();
  const config = request.proxy.config;
  const objects =
    request.connection === undefined
      ? await loadClusterObjects(request.files, sink)
      : await loadApiObjects(request.connection, config.nodeName, config.serviceProxyName, sink);
  noteFilteredObjects(objects, request.proxy.config.serviceProxyName, sink);
  let text: string;
  try {
    text =
      request.proxy.config.mode === 'userspace'
        ? userspaceRulesText(objects, request, sink)
        : rulesOutput(renderRulesFor(objects, request, sink), request);
  } finally {
    for (const d of sink.all) process.stderr.write(`${formatDiagnostic(d)}\n`);
  }
  process.stdout.write(text);
  process.exitCode = sink.hasErrors ? 1 : 0;
}

export function registerRulesCommand(program: Command): void {
  const cmd = program
    .command('rules')
    .description(
      'Print the rules kube-proxy would program for the given objects: the iptables-restore input ' +
        '(filter and nat tables) on stdout, diagnostics about the objects on stderr. ' +
        'Exit status 1 when an object or part of one was skipped, 0 otherwise.',
    );
  addRulesOptions(cmd);
  cmd.action(async (opts: RulesFlagValues) => {
    await runRules(opts);
  });
}
