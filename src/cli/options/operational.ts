/**
 * The KubeProxyConfiguration fields (and kube-proxy flags) that do not change rendered rules:
 * the API connection, bind addresses, timers, the OOM score, logging, IPVS and conntrack
 * tuning. Precedence is kube-proxy's (config-precedence.ts): with `--config FILE` the file,
 * defaulted as kube-proxy defaults it, alone decides (`--master` still applies); without it, the
 * flags over kube-proxy's defaults. Values are validated as kube-proxy validates them.
 */
import { Option, type Command } from 'commander';
import { KproxyError } from '../../core/errors.js';
import type { ProxyConfig } from '../../core/model/config.js';
import { parseCIDR, parseIP } from '../../core/net/ip.js';
import { kebabFlag } from './config-precedence.js';
import type { KubeProxyConfigFile } from './kube-proxy-config.js';
import { checkBool, checkDuration, checkHostPort } from './validate.js';

export interface ConntrackSettings {
  readonly maxPerCore: number;
  readonly min: number;
  readonly tcpEstablishedTimeoutSeconds: number;
  readonly tcpCloseWaitTimeoutSeconds: number;
  readonly udpTimeoutSeconds: number;
  readonly udpStreamTimeoutSeconds: number;
}

export interface IpvsSettings {
  readonly scheduler: string;
  readonly excludeCIDRs: readonly string[];
  readonly strictARP: boolean;
  readonly tcpTimeoutSeconds: number;
  readonly tcpFinTimeoutSeconds: number;
  readonly udpTimeoutSeconds: number;
}

export interface OperationalSettings {
  /** clientConnection.kubeconfig / --kubeconfig; "" = none. */
  readonly kubeconfig: string;
  /** --master (never in the file); "" = none. */
  readonly master: string;
  readonly contentType: string;
  readonly acceptContentTypes: string;
  readonly qps: number;
  readonly burst: number;
  /** kube-proxy's idea of the node's primary IP; 0.0.0.0 / :: = not set. */
  readonly bindAddress: string;
  readonly bindAddressHardFail: boolean;
  readonly configSyncPeriodSeconds: number;
  readonly oomScoreAdj: number;
  readonly enableProfiling: boolean;
  readonly showHiddenMetricsForVersion: string;
  readonly loggingFormat: 'text' | 'json';
  readonly conntrack: ConntrackSettings;
  readonly ipvs: IpvsSettings;
}

export const DEFAULT_OPERATIONAL: OperationalSettings = {
  kubeconfig: '',
  master: '',
  contentType: 'application/vnd.kubernetes.protobuf',
  acceptContentTypes: '',
  qps: 5,
  burst: 10,
  bindAddress: '0.0.0.0',
  bindAddressHardFail: false,
  configSyncPeriodSeconds: 900,
  oomScoreAdj: -999,
  enableProfiling: false,
  showHiddenMetricsForVersion: '',
  loggingFormat: 'text',
  conntrack: {
    maxPerCore: 32768,
    min: 131072,
    tcpEstablishedTimeoutSeconds: 86400,
    tcpCloseWaitTimeoutSeconds: 3600,
    udpTimeoutSeconds: 0,
    udpStreamTimeoutSeconds: 0,
  },
  ipvs: { scheduler: '', excludeCIDRs: [], strictARP: false, tcpTimeoutSeconds: 0, tcpFinTimeoutSeconds: 0, udpTimeoutSeconds: 0 },
};

const IPVS_SCHEDULERS = ['', 'rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'sh', 'dh', 'sed', 'nq', 'mh'];

/** The raw values commander collects for the options below. */
export interface ConnectionFlagValues {
  readonly kubeconfig?: string;
  readonly master?: string;
}

export interface OperationalFlagValues extends ConnectionFlagValues {
  readonly bindAddress?: string;
  readonly bindAddressHardFail?: boolean | string;
  readonly configSyncPeriod?: string;
  readonly oomScoreAdj?: string;
  readonly kubeApiContentType?: string;
  readonly kubeApiQps?: string;
  readonly kubeApiBurst?: string;
  readonly profiling?: boolean | string;
  readonly conntrackMaxPerCore?: string;
  readonly conntrackMin?: string;
  readonly conntrackTcpTimeoutEstablished?: string;
  readonly conntrackTcpTimeoutCloseWait?: string;
  readonly conntrackUdpTimeout?: string;
  readonly conntrackUdpTimeoutStream?: string;
  readonly ipvsScheduler?: string;
  readonly ipvsExcludeCidrs?: string;
  readonly ipvsStrictArp?: boolean | string;
  readonly ipvsTcpTimeout?: string;
  readonly ipvsTcpfinTimeout?: string;
  readonly ipvsUdpTimeout?: string;
}

export function addConnectionOptions(cmd: Command): Command {
  return cmd
    .option('--kubeconfig <path>', 'read the objects from the Kubernetes API with this kubeconfig (with neither it nor --master: the in-cluster service account)')
    .option('--master <url>', 'the API server URL (overrides the kubeconfig\'s server)');
}

/** The daemon's kube-proxy flags that do not change rules (each also a KubeProxyConfiguration field). */
export function addOperationalOptions(cmd: Command): Command {
  return addConnectionOptions(cmd)
    .option('--bind-address <ip>', 'the node\'s primary IP (kube-proxy\'s historical name; binds no socket) (default 0.0.0.0: from the Node)')
    .addOption(new Option('--bind-address-hard-fail [bool]', 'exit when the health or metrics server cannot listen (default: retry every 5s)'))
    .option('--config-sync-period <duration>', 'how often the API objects are re-delivered (default 15m0s; kproxy resyncs its rules every sync period anyway)')
    .option('--oom-score-adj <n>', 'the daemon\'s oom_score_adj, -1000..1000 (default -999)')
    .option('--kube-api-content-type <type>', 'accepted for compatibility; kproxy always reads JSON')
    .option('--kube-api-qps <n>', 'accepted and validated (default 5); kproxy makes few requests and does not rate-limit them')
    .option('--kube-api-burst <n>', 'accepted and validated (default 10); kproxy makes few requests and does not rate-limit them')
    .addOption(new Option('--profiling [bool]', 'accepted for compatibility (no pprof in Node.js)'))
    .option('--conntrack-max-per-core <n>', 'accepted and validated; kproxy leaves conntrack sysctls to the host')
    .option('--conntrack-min <n>', 'accepted and validated; kproxy leaves conntrack sysctls to the host')
    .option('--conntrack-tcp-timeout-established <duration>', 'accepted and validated; kproxy leaves conntrack sysctls to the host')
    .option('--conntrack-tcp-timeout-close-wait <duration>', 'accepted and validated; kproxy leaves conntrack sysctls to the host')
    .option('--conntrack-udp-timeout <duration>', 'accepted and validated; kproxy leaves conntrack sysctls to the host')
    .option('--conntrack-udp-timeout-stream <duration>', 'accepted and validated; kproxy leaves conntrack sysctls to the host')
    .option('--ipvs-scheduler <name>', 'ipvs mode: the scheduler (default rr)')
    .option('--ipvs-exclude-cidrs <cidrs>', 'ipvs mode: CIDRs whose virtual servers cleanup leaves alone')
    .addOption(new Option('--ipvs-strict-arp [bool]', 'ipvs mode: set arp_ignore=1 and arp_announce=2'))
    .option('--ipvs-tcp-timeout <duration>', 'ipvs mode: idle TCP timeout (0: leave as is)')
    .option('--ipvs-tcpfin-timeout <duration>', 'ipvs mode: TCP FIN timeout (0: leave as is)')
    .option('--ipvs-udp-timeout <duration>', 'ipvs mode: UDP timeout (0: leave as is)');
}

/** Collects every invalid value, then fails once naming them all. */
class Problems {
  readonly lines: string[] = [];
  add(where: string, message: string): void {
    this.lines.push(`${where}: ${message}`);
  }
}

function integer(p: Problems, where: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text.trim());
  if (!Number.isInteger(n)) p.add(where, `"${text}" is not an integer`);
  return Number.isInteger(n) ? n : fallback;
}

function decimal(p: Problems, where: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text.trim());
  if (!Number.isFinite(n)) p.add(where, `"${text}" is not a number`);
  return Number.isFinite(n) ? n : fallback;
}

function duration(p: Problems, where: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const d = checkDuration(text.trim());
  if (!d.ok) p.add(where, d.error);
  return d.ok ? d.value : fallback;
}

function boolean(p: Problems, where: string, value: boolean | string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  const b = checkBool(value);
  if (!b.ok) p.add(where, b.error);
  return b.ok ? b.value : fallback;
}

function fromFlags(o: OperationalFlagValues, p: Problems): OperationalSettings {
  const d = DEFAULT_OPERATIONAL;
  return {
    ...d,
    kubeconfig: o.kubeconfig ?? '',
    master: o.master ?? '',
    contentType: o.kubeApiContentType ?? d.contentType,
    qps: decimal(p, '--kube-api-qps', o.kubeApiQps, d.qps),
    burst: integer(p, '--kube-api-burst', o.kubeApiBurst, d.burst),
    bindAddress: o.bindAddress?.trim() ?? d.bindAddress,
    bindAddressHardFail: boolean(p, '--bind-address-hard-fail', o.bindAddressHardFail, d.bindAddressHardFail),
    configSyncPeriodSeconds: duration(p, '--config-sync-period', o.configSyncPeriod, d.configSyncPeriodSeconds),
    oomScoreAdj: integer(p, '--oom-score-adj', o.oomScoreAdj, d.oomScoreAdj),
    enableProfiling: boolean(p, '--profiling', o.profiling, d.enableProfiling),
    conntrack: {
      maxPerCore: integer(p, '--conntrack-max-per-core', o.conntrackMaxPerCore, d.conntrack.maxPerCore),
      min: integer(p, '--conntrack-min', o.conntrackMin, d.conntrack.min),
      tcpEstablishedTimeoutSeconds: duration(p, '--conntrack-tcp-timeout-established', o.conntrackTcpTimeoutEstablished, d.conntrack.tcpEstablishedTimeoutSeconds),
      tcpCloseWaitTimeoutSeconds: duration(p, '--conntrack-tcp-timeout-close-wait', o.conntrackTcpTimeoutCloseWait, d.conntrack.tcpCloseWaitTimeoutSeconds),
      udpTimeoutSeconds: duration(p, '--conntrack-udp-timeout', o.conntrackUdpTimeout, d.conntrack.udpTimeoutSeconds),
      udpStreamTimeoutSeconds: duration(p, '--conntrack-udp-timeout-stream', o.conntrackUdpTimeoutStream, d.conntrack.udpStreamTimeoutSeconds),
    },
    ipvs: {
      scheduler: o.ipvsScheduler ?? d.ipvs.scheduler,
      excludeCIDRs: o.ipvsExcludeCidrs === undefined ? [] : o.ipvsExcludeCidrs.split(',').map((s) => s.trim()).filter((s) => s !== ''),
      strictARP: boolean(p, '--ipvs-strict-arp', o.ipvsStrictArp, d.ipvs.strictARP),
      tcpTimeoutSeconds: duration(p, '--ipvs-tcp-timeout', o.ipvsTcpTimeout, 0),
      tcpFinTimeoutSeconds: duration(p, '--ipvs-tcpfin-timeout', o.ipvsTcpfinTimeout, 0),
      udpTimeoutSeconds: duration(p, '--ipvs-udp-timeout', o.ipvsUdpTimeout, 0),
    },
  };
}

function fromFile(file: Pick<KubeProxyConfigFile, 'config'>, master: string, p: Problems, where: (field: string) => string): OperationalSettings {
  const c = file.config;
  const format = c.logging.format;
  if (format !== 'text' && format !== 'json') p.add(where('logging.format'), `must be text or json (got "${format}")`);
  return {
    kubeconfig: c.clientConnection.kubeconfig,
    master,
    contentType: c.clientConnection.contentType,
    acceptContentTypes: c.clientConnection.acceptContentTypes,
    qps: c.clientConnection.qps,
    burst: c.clientConnection.burst,
    bindAddress: c.bindAddress,
    bindAddressHardFail: c.bindAddressHardFail,
    configSyncPeriodSeconds: c.configSyncPeriod,
    oomScoreAdj: c.oomScoreAdj,
    enableProfiling: c.enableProfiling,
    showHiddenMetricsForVersion: c.showHiddenMetricsForVersion,
    loggingFormat: format === 'json' ? 'json' : 'text',
    conntrack: {
      maxPerCore: c.conntrack.maxPerCore,
      min: c.conntrack.min,
      tcpEstablishedTimeoutSeconds: c.conntrack.tcpEstablishedTimeout,
      tcpCloseWaitTimeoutSeconds: c.conntrack.tcpCloseWaitTimeout,
      udpTimeoutSeconds: c.conntrack.udpTimeout,
      udpStreamTimeoutSeconds: c.conntrack.udpStreamTimeout,
    },
    ipvs: {
      scheduler: c.ipvs.scheduler,
      excludeCIDRs: c.ipvs.excludeCIDRs,
      strictARP: c.ipvs.strictARP,
      tcpTimeoutSeconds: c.ipvs.tcpTimeout,
      tcpFinTimeoutSeconds: c.ipvs.tcpFinTimeout,
      udpTimeoutSeconds: c.ipvs.udpTimeout,
    },
  };
}

/** The resolved settings the operational validation also looks at. */
type ValidatedProxyFields = Pick<ProxyConfig, 'mode' | 'syncPeriodSeconds' | 'minSyncPeriodSeconds' | 'healthzBindAddress' | 'metricsBindAddress'>;

/** kube-proxy's validation of the resolved configuration (pkg/proxy/apis/config/validation). */
function validate(s: OperationalSettings, proxy: ValidatedProxyFields, p: Problems, names: (field: string, flag: string) => string): void {
  const check = (ok: boolean, field: string, flag: string, message: string): void => {
    if (!ok) p.add(names(field, flag), message);
  };
  check(parseIP(s.bindAddress) !== null, 'bindAddress', '--bind-address', `"${s.bindAddress}" is not an IP address`);
  check(s.oomScoreAdj >= -1000 && s.oomScoreAdj <= 1000, 'oomScoreAdj', '--oom-score-adj', `must be within the range [-1000, 1000] (got ${s.oomScoreAdj})`);
  check(s.configSyncPeriodSeconds > 0, 'configSyncPeriod', '--config-sync-period', 'must be greater than 0');
  check(s.burst >= 0, 'clientConnection.burst', '--kube-api-burst', 'must be greater than or equal to 0');
  check(s.qps >= 0, 'clientConnection.qps', '--kube-api-qps', 'must be greater than or equal to 0');
  check(s.conntrack.maxPerCore >= 0, 'conntrack.maxPerCore', '--conntrack-max-per-core', 'must be greater than or equal to 0');
  check(s.conntrack.min >= 0, 'conntrack.min', '--conntrack-min', 'must be greater than or equal to 0');
  const block = proxy.mode === 'ipvs' ? 'ipvs' : proxy.mode === 'nftables' ? 'nftables' : 'iptables';
  check(proxy.syncPeriodSeconds > 0, `${block}.syncPeriod`, `--${block === 'ipvs' ? 'ipvs' : 'iptables'}-sync-period`, 'must be greater than 0');
  check(
    proxy.minSyncPeriodSeconds <= proxy.syncPeriodSeconds,
    `${block}.minSyncPeriod`,
    `--${block === 'ipvs' ? 'ipvs' : 'iptables'}-min-sync-period`,
    `must be less than or equal to the sync period (${proxy.minSyncPeriodSeconds}s > ${proxy.syncPeriodSeconds}s)`,
  );
  for (const [field, flag, value] of [
    ['healthzBindAddress', '--healthz-bind-address', proxy.healthzBindAddress],
    ['metricsBindAddress', '--metrics-bind-address', proxy.metricsBindAddress],
  ] as const) {
    // Empty disables the server; only a flag can leave it empty (the file's is defaulted).
    if (value === '') continue;
    const checked = checkHostPort(value);
    check(checked.ok, field, flag, checked.ok ? '' : checked.error);
  }
  if (proxy.mode === 'ipvs') {
    check(IPVS_SCHEDULERS.includes(s.ipvs.scheduler), 'ipvs.scheduler', '--ipvs-scheduler', `must be one of ${IPVS_SCHEDULERS.filter((x) => x !== '').join(', ')} (got "${s.ipvs.scheduler}")`);
  }
  for (const c of s.ipvs.excludeCIDRs) check(parseCIDR(c) !== null, 'ipvs.excludeCIDRs', '--ipvs-exclude-cidrs', `"${c}" is not a valid CIDR`);
  const format = /^(\d+)\.(\d+)$/;
  check(
    s.showHiddenMetricsForVersion === '' || format.test(s.showHiddenMetricsForVersion),
    'showHiddenMetricsForVersion',
    '--show-hidden-metrics-for-version',
    `"${s.showHiddenMetricsForVersion}" must be <major>.<minor>`,
  );
}

export interface ResolvedOperational {
  readonly settings: OperationalSettings;
}

const FILE_REPLACED_FLAGS: readonly (keyof OperationalFlagValues)[] = [
  'kubeconfig', 'bindAddress', 'bindAddressHardFail', 'configSyncPeriod', 'oomScoreAdj', 'kubeApiContentType',
  'kubeApiQps', 'kubeApiBurst', 'profiling', 'conntrackMaxPerCore', 'conntrackMin', 'conntrackTcpTimeoutEstablished',
  'conntrackTcpTimeoutCloseWait', 'conntrackUdpTimeout', 'conntrackUdpTimeoutStream', 'ipvsScheduler', 'ipvsExcludeCidrs',
  'ipvsStrictArp', 'ipvsTcpTimeout', 'ipvsTcpfinTimeout', 'ipvsUdpTimeout',
];

/** The operational flags given on the command line that a --config file replaces (for the one warning). */
export function operationalFlagsReplacedByConfig(o: OperationalFlagValues): string[] {
  return FILE_REPLACED_FLAGS.filter((k) => o[k] !== undefined).map(kebabFlag);
}

/**
 * Resolves and validates the operational settings against the resolved ProxyConfig; throws
 * E_CONFIG naming every invalid field (the file's field path, or the flag).
 */
export function operationalFromOptions(o: OperationalFlagValues, proxy: ProxyConfig, file?: KubeProxyConfigFile): ResolvedOperational {
  const p = new Problems();
  const settings = file === undefined ? fromFlags(o, p) : fromFile(file, o.master ?? '', p, (field) => `${file.path}: ${field}`);
  validate(settings, proxy, p, (field, flag) => (file === undefined ? flag : `${file.path}: ${field}`));
  if (p.lines.length > 0) throw new KproxyError('E_CONFIG', p.lines.join('\n'));
  return { settings };
}

/**
 * The invalid operational fields of a config file being loaded, as `field: message` lines, so
 * that the loader names them together with the rendering fields (kube-proxy validates the whole
 * object at once). `proxy` is the file's own rendering settings.
 */
export function configFileOperationalProblems(config: KubeProxyConfigFile['config'], proxy: ValidatedProxyFields): string[] {
  const p = new Problems();
  const settings = fromFile({ config }, '', p, (field) => field);
  validate(settings, proxy, p, (field) => field);
  return p.lines;
}

/** bindAddress, when set, is the node's primary IP: it goes first among the node IPs. */
export function withBindAddress(proxy: ProxyConfig, s: OperationalSettings): ProxyConfig {
  const ip = parseIP(s.bindAddress);
  if (ip === null || ip.text === '0.0.0.0' || ip.text === '::') return proxy;
  return { ...proxy, nodeIPs: [ip.text, ...proxy.nodeIPs.filter((x) => x !== ip.text)] };
}
