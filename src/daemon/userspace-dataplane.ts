/** The userspace mode's syncers: one proxy (listeners + balancer) and one syncer per IP family. */
import { KproxyError } from '../core/errors.js';
import { parsePortRange } from '../dataplanes/userspace/ports.js';
import { IptablesTool } from '../runtime/iptables/tool.js';
import { UserspaceProxy } from '../runtime/userspace/proxy.js';
import type { DataplaneOptions } from './dataplanes.js';
import type { FamilySyncer } from './types.js';
import { UserspaceFamilySyncer } from './userspace-syncer.js';

export function createUserspaceSyncers(o: DataplaneOptions): FamilySyncer[] {
  const parsed = parsePortRange(o.config.proxyPortRange);
  if ('error' in parsed) throw new KproxyError('E_USAGE', `--proxy-port-range: ${parsed.error}`);
  return o.families.map((family) => {
    const proxy = new UserspaceProxy({ family, portRange: parsed.range, udpIdleTimeoutMs: o.config.udpIdleTimeoutMs, log: o.log });
    return new UserspaceFamilySyncer(new IptablesTool(family), proxy, o.metrics, o.log);
  });
}
