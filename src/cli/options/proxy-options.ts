/**
 * kube-proxy's flags (under kube-proxy's names) and `--config FILE` → ProxyConfig. Shared by
 * every command that proxies (`rules`, the daemon): `addProxyOptions(cmd)` declares the flags,
 * `proxyConfigFromOptions(opts, configFile)` resolves them.
 *
 * As kube-proxy does, a config file replaces the flags (config-precedence.ts): with `--config`,
 * of these flags only `--hostname-override` (and kproxy's own `--node-ip`) still apply; the
 * others given on the command line are reported as ignored.
 */
import { hostname } from 'node:os';
import { Option, type Command } from 'commander';
import { KproxyError } from '../../core/errors.js';
import { DEFAULT_PROXY_CONFIG, type ProxyConfig } from '../../core/model/config.js';
import type { Diagnostic } from '../../core/model/diagnostics.js';
import { CONFIG_OPTION_HELP, ignoredFlagsWarning, kebabFlag } from './config-precedence.js';
import type { KubeProxyConfigFile } from './kube-proxy-config.js';
import {
  checkBool,
  checkClusterCIDRs,
  checkDetectLocalMode,
  checkFeatureGates,
  checkHostname,
  checkMasqueradeBit,
  checkNodeIPs,
  checkNodePortAddresses,
  checkPortRange,
  checkProxyMode,
  checkUdpIdleTimeout,
  type Checked,
} from './validate.js';
import { collectRepeated } from './repeatable.js';

/** The raw values commander collects for the options added by addProxyOptions. */
export interface ProxyFlagValues {
  readonly proxyMode?: string;
  readonly mode?: string;
  readonly config?: string;
  readonly hostnameOverride?: string;
  readonly nodeIp?: readonly string[];
  readonly clusterCidr?: string;
  readonly detectLocalMode?: string;
  readonly podBridgeInterface?: string;
  readonly podInterfaceNamePrefix?: string;
  readonly masqueradeAll?: boolean | string;
  readonly nodeportAddresses?: string;
  readonly iptablesMasqueradeBit?: string;
  readonly iptablesLocalhostNodeports?: boolean | string;
  readonly conntrackTcpBeLiberal?: boolean | string;
  readonly featureGates?: string;
  readonly proxyPortRange?: string;
  readonly udpTimeout?: string;
}

/** Flags a --config file overrides (kube-proxy ignores them when a file is given). */
const FILE_OVERRIDDEN_FLAGS: readonly (keyof ProxyFlagValues)[] = [
  'proxyMode', 'mode', 'clusterCidr', 'detectLocalMode', 'podBridgeInterface', 'podInterfaceNamePrefix',
  'masqueradeAll', 'nodeportAddresses', 'iptablesMasqueradeBit', 'iptablesLocalhostNodeports',
  'conntrackTcpBeLiberal', 'featureGates', 'proxyPortRange', 'udpTimeout',
];

export function addProxyOptions(cmd: Command): Command {
  return cmd
    .option('--proxy-mode <mode>', 'proxy mode: iptables (default), nftables, ipvs or userspace')
    .option('--mode <mode>', 'short alias of --proxy-mode')
    .option('--config <file>', CONFIG_OPTION_HELP)
    .option('--hostname-override <name>', "the node's name (trimmed, lower-cased; spaces only is an error); wins over the config file's hostnameOverride; default: this machine's hostname")
    .option('--node-ip <ip>', "one of the node's IPs, before the Node object's addresses; the first of a family is the primary (repeatable)", collectRepeated)
    .option('--cluster-cidr <cidrs>', 'the pods\' CIDR range(s), comma-separated (one per IP family): traffic from outside it is masqueraded')
    .option('--detect-local-mode <mode>', 'how pod traffic is recognised: ClusterCIDR (default), NodeCIDR, BridgeInterface, InterfaceNamePrefix')
    .option('--pod-bridge-interface <name>', 'with --detect-local-mode BridgeInterface: the pods\' bridge')
    .option('--pod-interface-name-prefix <prefix>', 'with --detect-local-mode InterfaceNamePrefix: the pods\' interface name prefix')
    .addOption(new Option('--masquerade-all [bool]', 'masquerade all traffic sent to ClusterIPs (default false)'))
    .option('--nodeport-addresses <cidrs>', 'comma-separated CIDRs whose node addresses accept NodePorts, or "primary"; default: all')
    .option('--iptables-masquerade-bit <bit>', 'the fwmark bit (0-31) marking packets to masquerade (default 14)')
    .addOption(new Option('--iptables-localhost-nodeports [bool]', 'accept NodePort connections to 127.0.0.1 (IPv4 only; default true)'))
    .addOption(new Option('--conntrack-tcp-be-liberal [bool]', 'nf_conntrack_tcp_be_liberal is set: no DROP rule for INVALID packets (default false)'))
    .option('--feature-gates <gates>', 'feature gates, NAME=true|false,... (e.g. PreferSameTrafficDistribution=false)')
    .option('--proxy-port-range <range>', 'userspace mode: proxy ports from LOW-HIGH, BASE+OFFSET or PORT; default: the kernel picks each port')
    .option('--udp-timeout <duration>', 'userspace mode: how long an idle UDP session lives (default 250ms)');
}

export interface ResolvedProxyOptions {
  readonly config: ProxyConfig;
  /** conntrack.tcpBeLiberal / --conntrack-tcp-be-liberal (a host setting, not part of ProxyConfig). */
  readonly conntrackTCPBeLiberal: boolean;
  /** Non-fatal problems to print on stderr (unknown config fields, ignored flags). */
  readonly warnings: readonly Diagnostic[];
}

function flagValue<T>(flag: string, checked: Checked<T>): T {
  if (checked.ok) return checked.value;
  throw new KproxyError('E_USAGE', `${flag}: ${checked.error}`);
}

function boolFlag(flag: string, value: boolean | string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  return flagValue(flag, checkBool(value));
}

function machineHostname(): string {
  return hostname();
}

function fromFlags(opts: ProxyFlagValues): { config: ProxyConfig; tcpBeLiberal: boolean } {
  const d = DEFAULT_PROXY_CONFIG;
  if (opts.proxyMode !== undefined && opts.mode !== undefined && opts.proxyMode !== opts.mode) {
    throw new KproxyError('E_USAGE', `--proxy-mode ${opts.proxyMode} and --mode ${opts.mode} disagree`);
  }
  const modeText = opts.proxyMode ?? opts.mode;
  const bitText = opts.iptablesMasqueradeBit;
  const bit = bitText === undefined ? d.masqueradeBit : Number(bitText.trim());
  const config: ProxyConfig = {
    ...d,
    mode: modeText === undefined ? d.mode : flagValue('--proxy-mode', checkProxyMode(modeText)),
    clusterCIDRs: opts.clusterCidr === undefined ? [] : flagValue('--cluster-cidr', checkClusterCIDRs(opts.clusterCidr)),
    detectLocalMode:
      opts.detectLocalMode === undefined ? d.detectLocalMode : flagValue('--detect-local-mode', checkDetectLocalMode(opts.detectLocalMode)),
    bridgeInterface: opts.podBridgeInterface ?? '',
    interfaceNamePrefix: opts.podInterfaceNamePrefix ?? '',
    masqueradeAll: boolFlag('--masquerade-all', opts.masqueradeAll, d.masqueradeAll),
    masqueradeBit: flagValue('--iptables-masquerade-bit', checkMasqueradeBit(bit)),
    localhostNodePorts: boolFlag('--iptables-localhost-nodeports', opts.iptablesLocalhostNodeports, d.localhostNodePorts),
    nodePortAddresses:
      opts.nodeportAddresses === undefined ? [] : flagValue('--nodeport-addresses', checkNodePortAddresses(opts.nodeportAddresses.split(','))),
    featureGates: opts.featureGates === undefined ? {} : flagValue('--feature-gates', checkFeatureGates(opts.featureGates)),
    proxyPortRange:
      opts.proxyPortRange === undefined ? d.proxyPortRange : flagValue('--proxy-port-range', checkPortRange(opts.proxyPortRange)),
    udpIdleTimeoutMs: opts.udpTimeout === undefined ? d.udpIdleTimeoutMs : flagValue('--udp-timeout', checkUdpIdleTimeout(opts.udpTimeout)),
  };
  return { config, tcpBeLiberal: boolFlag('--conntrack-tcp-be-liberal', opts.conntrackTcpBeLiberal, false) };
}

function fromFile(file: KubeProxyConfigFile): { config: ProxyConfig; tcpBeLiberal: boolean } {
  const s = file.settings;
  const config: ProxyConfig = {
    ...DEFAULT_PROXY_CONFIG,
    mode: s.mode,
    clusterCIDRs: s.clusterCIDRs,
    detectLocalMode: s.detectLocalMode,
    bridgeInterface: s.bridgeInterface,
    interfaceNamePrefix: s.interfaceNamePrefix,
    masqueradeAll: s.masqueradeAll,
    masqueradeBit: s.masqueradeBit,
    localhostNodePorts: s.localhostNodePorts,
    nodePortAddresses: s.nodePortAddresses,
    serviceProxyName: s.serviceProxyName,
    syncPeriodSeconds: s.syncPeriodSeconds,
    minSyncPeriodSeconds: s.minSyncPeriodSeconds,
    healthzBindAddress: s.healthzBindAddress,
    metricsBindAddress: s.metricsBindAddress,
    featureGates: s.featureGates,
    proxyPortRange: s.proxyPortRange,
    udpIdleTimeoutMs: s.udpIdleTimeoutMs,
    origin: { kind: 'file', path: file.path },
  };
  return { config, tcpBeLiberal: s.conntrackTCPBeLiberal };
}

/**
 * The node's name as kube-proxy settles it: a non-empty --hostname-override wins over the file
 * (spaces only is an error, not "unset"); then the file's hostnameOverride; then the machine's
 * hostname. Trimmed and lower-cased.
 */
function nodeNameFrom(override: string | undefined, file: KubeProxyConfigFile | undefined): string {
  if (override !== undefined && override !== '') return flagValue('--hostname-override', checkHostname(override));
  const fromFile = file?.settings.hostnameOverride ?? '';
  if (file !== undefined && fromFile !== '') {
    const checked = checkHostname(fromFile);
    if (!checked.ok) throw new KproxyError('E_CONFIG', `${file.path}: hostnameOverride: ${checked.error}`);
    return checked.value;
  }
  const machine = checkHostname(machineHostname());
  if (!machine.ok) throw new KproxyError('E_CONFIG', `this machine's hostname ${machine.error}: give --hostname-override`);
  return machine.value;
}

/** kube-proxy's validation of the flags' detect-local settings (the file's are checked when it is read). */
function checkDetectLocalSettings(config: ProxyConfig): void {
  if (config.detectLocalMode === 'BridgeInterface' && config.bridgeInterface === '') {
    throw new KproxyError('E_USAGE', '--detect-local-mode BridgeInterface needs a bridge interface name (--pod-bridge-interface)');
  }
  if (config.detectLocalMode === 'InterfaceNamePrefix' && config.interfaceNamePrefix === '') {
    throw new KproxyError('E_USAGE', '--detect-local-mode InterfaceNamePrefix needs a prefix (--pod-interface-name-prefix)');
  }
}

/**
 * Resolves flags and an optional loaded config file into a ProxyConfig. Throws E_USAGE for a bad
 * flag value and E_CONFIG for an inconsistent configuration.
 */
export function proxyConfigFromOptions(
  opts: ProxyFlagValues,
  configFile?: KubeProxyConfigFile,
  otherIgnoredFlags: readonly string[] = [],
): ResolvedProxyOptions {
  const warnings: Diagnostic[] = [...(configFile?.warnings ?? [])];
  const base = configFile === undefined ? fromFlags(opts) : fromFile(configFile);
  if (configFile !== undefined) {
    const ignored = [...FILE_OVERRIDDEN_FLAGS.filter((k) => opts[k] !== undefined).map(kebabFlag), ...otherIgnoredFlags];
    warnings.push(...ignoredFlagsWarning(configFile.path, ignored));
  }
  const nodeName = nodeNameFrom(opts.hostnameOverride, configFile);
  const nodeIPs = flagValue('--node-ip', checkNodeIPs(opts.nodeIp ?? []));
  const config: ProxyConfig = { ...base.config, nodeName, nodeIPs };
  if (configFile === undefined) checkDetectLocalSettings(config);
  return { config, conntrackTCPBeLiberal: base.tcpBeLiberal, warnings };
}
