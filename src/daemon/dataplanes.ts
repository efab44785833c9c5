/** Builds the syncers of the configured proxy mode, one per IP family. */
import { KproxyError } from '../core/errors.js';
import type { ProxyConfig } from '../core/model/config.js';
import type { IPFamily } from '../core/model/objects.js';
import type { RuleFormat } from '../core/naming/service-port-name.js';
import { IptablesTool } from '../runtime/iptables/tool.js';
import type { ProxyMetrics } from '../runtime/metrics.js';
import { registerNfacctCounters } from '../runtime/nfacct-metrics.js';
import { IptablesFamilySyncer } from './iptables-syncer.js';
import { createUserspaceSyncers } from './userspace-dataplane.js';
import type { Logger } from './logger.js';
import type { FamilySyncer } from './types.js';

export interface DataplaneOptions {
  readonly config: ProxyConfig;
  readonly families: readonly IPFamily[];
  readonly format: RuleFormat;
  readonly tcpBeLiberal: boolean;
  readonly metrics: ProxyMetrics;
  readonly log: Logger;
}

export function createSyncers(o: DataplaneOptions): FamilySyncer[] {
  switch (o.config.mode) {
    case 'iptables':
      registerNfacctCounters(o.metrics);
      return o.families.map((f) => new IptablesFamilySyncer(new IptablesTool(f), o.format, o.metrics, o.log, o.tcpBeLiberal));
    case 'userspace':
      return createUserspaceSyncers(o);
    case 'nftables':
    case 'ipvs':
      throw new KproxyError('E_UNSUPPORTED', `--proxy-mode ${o.config.mode}: not available yet (iptables and userspace only)`);
  }
}
