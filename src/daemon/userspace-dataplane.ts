/** The userspace mode's syncers: one proxy (listeners + balancer) and one syncer per IP family. */
import { KproxyError } from '../core/errors.js';
import type { ProxyConfig } from '../core/model/config.js';
import type { IPFamily } from '../core/model/objects.js';
import { proxyPortRange } from '../dataplanes/userspace/ports.js';
import { IptablesTool } from '../runtime/iptables/tool.js';
import { firstHostAddress } from '../runtime/userspace/host-ip.js';
import { UserspaceProxy } from '../runtime/userspace/proxy.js';
import type { DataplaneOptions } from './dataplanes.js';
import type { FamilySyncer } from './types.js';
import { UserspaceFamilySyncer } from './userspace-syncer.js';

/**
 * The node's own traffic to a service is DNATed to the node's address (kube-proxy's hostIP), so
 * the mode cannot work for a family with none: no --node-ip of it and no address outside loopback
 * on the host. kube-proxy's userspace mode refused to start then too; so does kproxy, at start,
 * for its first family (a second family the host has no address of carries no node traffic anyway).
 */
export function checkHostAddress(config: ProxyConfig, family: IPFamily, hostAddress: (f: IPFamily) => string = firstHostAddress): void {
  const given = config.nodeIPs.some((ip) => ip.includes(':') === (family === 'IPv6'));
  if (given || hostAddress(family) !== '') return;
  throw new KproxyError(
    'E_CONFIG',
    `--proxy-mode userspace: this host has no ${family} address outside loopback and --node-ip gives none, but the node's own ` +
      `traffic to services is DNATed to the node's address; give --node-ip`,
  );
}

export function createUserspaceSyncers(o: DataplaneOptions): FamilySyncer[] {
  const range = proxyPortRange(o.config.proxyPortRange);
  const primary = o.families[0];
  if (primary !== undefined) checkHostAddress(o.config, primary);
  return o.families.map((family) => {
    const proxy = new UserspaceProxy({ family, portRange: range, udpIdleTimeoutMs: o.config.udpIdleTimeoutMs, log: o.log });
    return new UserspaceFamilySyncer(new IptablesTool(family), proxy, o.metrics, o.log);
  });
}
