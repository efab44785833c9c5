/**
 * kube-proxy's hostIP for the userspace mode when the node's address is not known from a Node
 * object or --node-ip: the first address of the family on a non-loopback interface (a stand-in
 * for its ChooseHostInterface, which picked the default route's interface).
 */
import os from 'node:os';
import type { IPFamily } from '../../core/model/objects.js';

export function firstHostAddress(family: IPFamily): string {
  const interfaces = os.networkInterfaces();
  for (const name of Object.keys(interfaces).sort()) {
    for (const a of interfaces[name] ?? []) {
      if (a.internal || a.family !== family) continue;
      if (family === 'IPv6' && a.address.toLowerCase().startsWith('fe80')) continue;
      return a.address;
    }
  }
  return '';
}
