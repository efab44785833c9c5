/**
 * `kproxy run`: the proxy daemon. Watches the manifest files and keeps the kernel of the
 * network namespace it runs in in sync (iptables mode), with kube-proxy's health and metrics
 * servers. `--netns NAME` re-executes it inside that namespace.
 */
import fs from 'node:fs';
import { Command, Option } from 'commander';
import { KproxyError } from '../../core/errors.js';
import type { IPFamily } from '../../core/model/objects.js';
import type { RuleFormat } from '../../core/naming/service-port-name.js';
import { createSyncers } from '../../daemon/dataplanes.js';
import { FileSource } from '../../daemon/file-source.js';
import { createLogger } from '../../daemon/logger.js';
import { Proxier } from '../../daemon/proxier.js';
import { parseBindAddress } from '../../runtime/bind-address.js';
import { ProxyHealth } from '../../runtime/health.js';
import { startHealthServer, startMetricsServer, type RunningServer } from '../../runtime/http-servers.js';
import { ProxyMetrics } from '../../runtime/metrics.js';
import { reexecInNetns } from '../../runtime/netns.js';
import { loadKubeProxyConfiguration } from '../options/kube-proxy-config.js';
import { addProxyOptions, proxyConfigFromOptions, type ProxyFlagValues } from '../options/proxy-options.js';
import { checkDuration } from '../options/validate.js';

interface RunFlagValues extends ProxyFlagValues {
  readonly filename?: readonly string[];
  readonly netns?: string;
  readonly iptablesSyncPeriod?: string;
  readonly iptablesMinSyncPeriod?: string;
  readonly healthzBindAddress?: string;
  readonly metricsBindAddress?: string;
  readonly format: string;
  readonly loggingFormat: string;
  readonly ipFamilies?: string;
}

function collect(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value];
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

async function runDaemon(opts: RunFlagValues): Promise<void> {
  const configFile = opts.config === undefined ? undefined : loadKubeProxyConfiguration(opts.config);
  const resolved = proxyConfigFromOptions(opts, configFile);
  const log = createLogger(opts.loggingFormat === 'json' ? 'json' : 'text');
  for (const w of resolved.warnings) log.warn(w);
  const fileGiven = configFile !== undefined;
  const config = {
    ...resolved.config,
    syncPeriodSeconds: fileGiven ? resolved.config.syncPeriodSeconds : seconds('--iptables-sync-period', opts.iptablesSyncPeriod, 30),
    minSyncPeriodSeconds: fileGiven
      ? resolved.config.minSyncPeriodSeconds
      : seconds('--iptables-min-sync-period', opts.iptablesMinSyncPeriod, 1),
    healthzBindAddress: fileGiven ? resolved.config.healthzBindAddress : (opts.healthzBindAddress ?? '0.0.0.0:10256'),
    metricsBindAddress: fileGiven ? resolved.config.metricsBindAddress : (opts.metricsBindAddress ?? '127.0.0.1:10249'),
  };
  const files = opts.filename ?? [];
  if (files.length === 0) throw new KproxyError('E_USAGE', 'run: give the objects to watch with -f PATH');
  const format: RuleFormat = opts.format === 'legacy' ? 'legacy' : 'current';
  const metrics = new ProxyMetrics();
  const fams = families(opts.ipFamilies);
  const health = new ProxyHealth(fams, 2 * config.syncPeriodSeconds * 1000);
  const syncers = createSyncers({ config, families: fams, format, tcpBeLiberal: resolved.conntrackTCPBeLiberal, metrics, log });
  const source = new FileSource(files);
  const proxier = new Proxier({ config, syncers, source, log, metrics, health });

  const servers: RunningServer[] = [];
  const healthBind = parseBindAddress('--healthz-bind-address', config.healthzBindAddress);
  const metricsBind = parseBindAddress('--metrics-bind-address', config.metricsBindAddress);
  if (healthBind !== null) servers.push(await startHealthServer(healthBind, health, metrics));
  if (metricsBind !== null) servers.push(await startMetricsServer(metricsBind, metrics, config.mode));

  log.info('kproxy started', {
    mode: config.mode,
    node: config.nodeName,
    families: fams.join(','),
    format,
    healthz: config.healthzBindAddress,
    metrics: config.metricsBindAddress,
    syncPeriod: config.syncPeriodSeconds,
    minSyncPeriod: config.minSyncPeriodSeconds,
  });
  await proxier.start();

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      log.info('shutting down; programmed rules stay in place', { signal });
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await proxier.stop();
  for (const s of servers) await s.close();
}

export function registerRunCommand(program: Command): void {
  const cmd = program
    .command('run')
    .description(
      'Run the proxy: watch the manifest files and keep the kernel rules of this network namespace ' +
        '(or of --netns NAME) in sync, as kube-proxy does. SIGTERM stops it and leaves the rules in place.',
    );
  addProxyOptions(cmd)
    .option('-f, --filename <path>', 'Kubernetes objects to watch: a file, a folder (recursively) (repeatable)', collect)
    .option('--netns <name>', 'run inside this network namespace (re-executes under `ip netns exec`)')
    .option('--iptables-sync-period <duration>', 'the longest time between syncs (default 30s)')
    .option('--iptables-min-sync-period <duration>', 'the shortest time between syncs (default 1s)')
    .option('--healthz-bind-address <host:port>', 'the health server (/healthz, /livez); empty disables (default 0.0.0.0:10256)')
    .option('--metrics-bind-address <host:port>', 'the metrics server (/metrics, /proxyMode); empty disables (default 127.0.0.1:10249)')
    .addOption(new Option('--format <format>', 'rule format: current, or legacy (kube-proxy 1.18)').choices(['current', 'legacy']).default('current'))
    .addOption(new Option('--logging-format <format>', 'log line format').choices(['text', 'json']).default('text'))
    .option('--ip-families <list>', 'families to program: ipv4, ipv6 or ipv4,ipv6 (default: IPv4, plus IPv6 when the host has it)');
  cmd.action(async (opts: RunFlagValues) => {
    if (opts.netns !== undefined) {
      process.exitCode = await reexecInNetns(opts.netns, process.argv.slice(2));
      return;
    }
    await runDaemon(opts);
  });
}

