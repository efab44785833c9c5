/**
 * `kproxy run`: the proxy daemon. Watches the Kubernetes API (or manifest files, -f) and keeps
 * the kernel of the network namespace it runs in in sync, with kube-proxy's health, metrics and
 * service health-check servers. `--netns NAME` re-executes it inside that namespace.
 */
import fs from 'node:fs';
import { Command, Option } from 'commander';
import { KproxyError } from '../../core/errors.js';
import type { DesiredState } from '../../core/desired/types.js';
import type { ProxyConfig } from '../../core/model/config.js';
import { formatDiagnostic } from '../../core/model/diagnostics.js';
import type { IPFamily } from '../../core/model/objects.js';
import type { RuleFormat } from '../../core/naming/service-port-name.js';
import { createSyncers } from '../../daemon/dataplanes.js';
import { chooseObjectSource } from '../../daemon/api-source.js';
import { createLogger } from '../../daemon/logger.js';
import { Proxier } from '../../daemon/proxier.js';
import { parseBindAddress } from '../../runtime/bind-address.js';
import { requireNetAdmin } from '../../runtime/capabilities.js';
import { ProxyHealth } from '../../runtime/health.js';
import { CONFIG_FILE_UPDATED, ConfigFileWatch } from '../../runtime/config-file-watch.js';
import { startHealthServer, startMetricsServer, startWithRetry } from '../../runtime/http-servers.js';
import { ProxyMetrics } from '../../runtime/metrics.js';
import { reexecInNetns } from '../../runtime/netns.js';
import { ServiceHealthServer } from '../../runtime/service-health.js';
import { inputError, writeTextOutput } from '../../runtime/io.js';
import { kebabFlag } from '../options/config-precedence.js';
import { configzBody, v1alpha1Yaml } from '../options/effective-config.js';
import { loadKubeProxyConfiguration, type KubeProxyConfigFile } from '../options/kube-proxy-config.js';
import { collectRepeated } from '../options/repeatable.js';
import { addProxyOptions, proxyConfigFromOptions, type ProxyFlagValues, type ResolvedProxyOptions } from '../options/proxy-options.js';
import {
  addOperationalOptions,
  operationalFlagsReplacedByConfig,
  operationalFromOptions,
  withBindAddress,
  type OperationalFlagValues,
  type OperationalSettings,
} from '../options/operational.js';
import { appendPortIfNeeded, checkDuration } from '../options/validate.js';

export interface RunFlagValues extends ProxyFlagValues, OperationalFlagValues {
  readonly writeConfigTo?: string;
  readonly filename?: readonly string[];
  readonly netns?: string;
  readonly iptablesSyncPeriod?: string;
  readonly iptablesMinSyncPeriod?: string;
  readonly healthzBindAddress?: string;
  readonly metricsBindAddress?: string;
  readonly format: string;
  readonly loggingFormat?: string;
  readonly ipFamilies?: string;
}


function seconds(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const checked = checkDuration(value);
  if (!checked.ok) throw new KproxyError('E_USAGE', `${flag}: ${checked.error}`);
  return checked.value;
}

function families(flag: string | undefined): IPFamily[] {
  if (flag !== undefined) {
    return flag.split(',').map((f) => {
      if (f.trim() === 'ipv4') return 'IPv4';
      if (f.trim() === 'ipv6') return 'IPv6';
      throw new KproxyError('E_USAGE', `--ip-families: "${f}" is not ipv4 or ipv6`);
    });
  }
  // Like kube-proxy: IPv4, plus IPv6 when the host has it.
  return fs.existsSync('/proc/net/if_inet6') ? ['IPv4', 'IPv6'] : ['IPv4'];
}

/** `run`'s own kube-proxy flags that a --config file replaces. */
const RUN_FLAGS_REPLACED_BY_CONFIG = ['iptablesSyncPeriod', 'iptablesMinSyncPeriod', 'healthzBindAddress', 'metricsBindAddress'] as const;

/**
 * --healthz-bind-address / --metrics-bind-address as kube-proxy reads them without a file: empty
 * disables the server, a bare IP gets the default port.
 */
function serverAddressFlag(value: string | undefined, fallback: string, port: number): string {
  if (value === undefined) return fallback;
  return value.trim() === '' ? '' : appendPortIfNeeded(value.trim(), port);
}

interface ResolvedRun {
  readonly configFile: KubeProxyConfigFile | undefined;
  readonly resolved: ResolvedProxyOptions;
  /** The configuration as --write-config-to writes it (bindAddress not folded into the node IPs). */
  readonly written: ProxyConfig;
  readonly config: ProxyConfig;
  readonly op: OperationalSettings;
}

/** Flags and --config → the daemon's configuration, as kube-proxy resolves and validates it. */
export function resolveRunConfiguration(opts: RunFlagValues): ResolvedRun {
  const configFile = opts.config === undefined ? undefined : loadKubeProxyConfiguration(opts.config);
  const replaced = [...operationalFlagsReplacedByConfig(opts), ...RUN_FLAGS_REPLACED_BY_CONFIG.filter((k) => opts[k] !== undefined).map(kebabFlag)];
  const resolved = proxyConfigFromOptions(opts, configFile, replaced);
  const fileGiven = configFile !== undefined;
  const flagConfig = {
    ...resolved.config,
    syncPeriodSeconds: fileGiven ? resolved.config.syncPeriodSeconds : seconds('--iptables-sync-period', opts.iptablesSyncPeriod, 30),
    minSyncPeriodSeconds: fileGiven
      ? resolved.config.minSyncPeriodSeconds
      : seconds('--iptables-min-sync-period', opts.iptablesMinSyncPeriod, 1),
    healthzBindAddress: fileGiven ? resolved.config.healthzBindAddress : serverAddressFlag(opts.healthzBindAddress, '0.0.0.0:10256', 10256),
    metricsBindAddress: fileGiven ? resolved.config.metricsBindAddress : serverAddressFlag(opts.metricsBindAddress, '127.0.0.1:10249', 10249),
  };
  const fromOptions = operationalFromOptions(opts, flagConfig, configFile).settings;
  // The logging flag wins over the file when given (kube-proxy's copyLogsFromFlags).
  const loggingFormat = opts.loggingFormat === 'json' || opts.loggingFormat === 'text' ? opts.loggingFormat : fromOptions.loggingFormat;
  const op = { ...fromOptions, loggingFormat };
  return { configFile, resolved, written: flagConfig, config: withBindAddress(flagConfig, op), op };
}

async function runDaemon(opts: RunFlagValues): Promise<void> {
  const { configFile, resolved, written, config, op } = resolveRunConfiguration(opts);
  if (opts.writeConfigTo !== undefined) {
    for (const w of resolved.warnings) process.stderr.write(`${formatDiagnostic(w)}\n`);
    writeTextOutput(opts.writeConfigTo, v1alpha1Yaml(written, op));
    process.stderr.write(`kproxy: wrote the configuration to ${opts.writeConfigTo}\n`);
    return;
  }
  // A -f path missing at start is a typo, not a file still to come: say so instead of retrying.
  for (const file of (opts.filename ?? []).filter((f) => f !== '-')) {
    try {
      fs.statSync(file);
    } catch (cause) {
      throw inputError(file, cause);
    }
  }
  // Every mode kproxy runs programs the kernel (userspace mode too: its portal rules).
  requireNetAdmin(`run --proxy-mode ${config.mode}`);
  const log = createLogger(op.loggingFormat);
  for (const w of resolved.warnings) log.warn('config', { diagnostic: formatDiagnostic(w) });
  applyOomScoreAdj(op.oomScoreAdj, log);
  const format: RuleFormat = opts.format === 'legacy' ? 'legacy' : 'current';
  const metrics = new ProxyMetrics();
  const fams = families(opts.ipFamilies);
  const health = new ProxyHealth(fams, 2 * config.syncPeriodSeconds * 1000);
  const syncers = createSyncers({ config, families: fams, format, tcpBeLiberal: resolved.conntrackTCPBeLiberal, metrics, log });
  const { source, description } = chooseObjectSource({
    files: opts.filename ?? [],
    connection: { kubeconfig: op.kubeconfig, master: op.master },
    connectionFlagsGiven: opts.kubeconfig !== undefined || opts.master !== undefined,
    nodeName: config.nodeName,
    serviceProxyName: config.serviceProxyName,
    log,
  });
  const serviceHealth = new ServiceHealthServer({ nodeName: config.nodeName, proxyHealthy: () => health.report().healthy, log });
  const afterSync = (states: readonly DesiredState[]): Promise<void> => serviceHealth.syncStates(states);
  const proxier = new Proxier({ config, syncers, source, log, metrics, health, afterSync });

  const servers: { close(): Promise<void> }[] = [];
  const healthBind = parseBindAddress('--healthz-bind-address', config.healthzBindAddress);
  const metricsBind = parseBindAddress('--metrics-bind-address', config.metricsBindAddress);
  const retry = (server: string) => ({
    hardFail: op.bindAddressHardFail,
    onRetry: (err: Error, ms: number) => log.error(`failed to start the ${server} server; retrying`, { error: err.message, retryInMs: ms }),
  });
  if (healthBind !== null) servers.push(await startWithRetry(() => startHealthServer(healthBind, health, metrics), retry('health')));
  if (metricsBind !== null) {
    const configz = (): unknown => configzBody(config, op);
    servers.push(await startWithRetry(() => startMetricsServer(metricsBind, metrics, config.mode, configz), retry('metrics')));
  }

  log.info('kproxy started', {
    mode: config.mode,
    node: config.nodeName,
    families: fams.join(','),
    format,
    objects: description,
    healthz: config.healthzBindAddress,
    metrics: config.metricsBindAddress,
    syncPeriod: config.syncPeriodSeconds,
    minSyncPeriod: config.minSyncPeriodSeconds,
  });
  const outcome = { configUpdated: false };
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    log.info('shutting down; programmed rules stay in place', { signal });
    stop();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const watch =
    configFile === undefined
      ? null
      : new ConfigFileWatch(configFile.path, () => {
          outcome.configUpdated = true;
          log.error(CONFIG_FILE_UPDATED, { file: configFile.path });
          stop();
        });
  watch?.start();
  // The first sync waits for every list; a signal or a config change meanwhile still stops.
  await Promise.race([proxier.start(), stopped]);
  await stopped;
  watch?.close();
  await proxier.stop();
  await serviceHealth.close();
  for (const s of servers) await s.close();
  if (outcome.configUpdated) throw new KproxyError('E_CONFIG', CONFIG_FILE_UPDATED);
}

/** kube-proxy sets its own OOM score (-999 by default) so that the kernel kills it last. */
function applyOomScoreAdj(value: number, log: { info(msg: string, fields?: Record<string, string>): void }): void {
  try {
    fs.writeFileSync('/proc/self/oom_score_adj', String(value));
  } catch (err) {
    // Lowering it needs CAP_SYS_RESOURCE, which containers often lack; kube-proxy only notes this at -v=2.
    log.info('oom_score_adj not applied', { value: String(value), error: err instanceof Error ? err.message : String(err) });
  }
}

export function registerRunCommand(program: Command): void {
  const cmd = program
    .command('run')
    .description(
      'Run the proxy: watch the Kubernetes API (--kubeconfig, --master, or the in-cluster service account) or ' +
        'manifest files (-f) and keep the kernel rules of this network namespace (or of --netns NAME) in sync, ' +
        'as kube-proxy does. SIGTERM stops it and leaves the rules in place.',
    );
  addOperationalOptions(addProxyOptions(cmd))
    .option('--write-config-to <file>', 'write the effective configuration (KubeProxyConfiguration v1alpha1 YAML) to this file and exit')
    .option('-f, --filename <path>', 'Kubernetes objects to watch instead of the API: a file, a folder (recursively) (repeatable)', collectRepeated)
    .option('--netns <name>', 'run inside this network namespace (re-executes under `ip netns exec`)')
    .option('--iptables-sync-period <duration>', 'the longest time between syncs (default 30s)')
    .option('--iptables-min-sync-period <duration>', 'the shortest time between syncs (default 1s)')
    .option('--healthz-bind-address <host:port>', 'the health server (/healthz, /livez); empty disables (default 0.0.0.0:10256)')
    .option('--metrics-bind-address <host:port>', 'the metrics server (/metrics, /proxyMode); empty disables (default 127.0.0.1:10249)')
    .addOption(new Option('--format <format>', 'rule format: current, or legacy (kube-proxy 1.18)').choices(['current', 'legacy']).default('current'))
    .addOption(new Option('--logging-format <format>', 'log line format (default text; given, it wins over the config file\'s logging.format)').choices(['text', 'json']))
    .option('--ip-families <list>', 'families to program: ipv4, ipv6 or ipv4,ipv6 (default: IPv4, plus IPv6 when the host has it)');
  cmd.action(async (opts: RunFlagValues) => {
    if (opts.netns !== undefined) {
      process.exitCode = await reexecInNetns(opts.netns, process.argv.slice(2));
      return;
    }
    await runDaemon(opts);
  });
}

