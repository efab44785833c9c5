/**
 * Whether this process may program the kernel's firewall: iptables, nftables and conntrack all
 * need CAP_NET_ADMIN in the network namespace's owning user namespace. Checked once at start, so
 * the daemon says so plainly instead of retrying a sync that can never succeed.
 */
import { readFileSync } from 'node:fs';
import { KproxyError } from '../core/errors.js';

/** capability(7): CAP_NET_ADMIN is bit 12. */
const CAP_NET_ADMIN = 12n;

/** Whether the `CapEff:` line of a /proc/PID/status text holds CAP_NET_ADMIN (null: no such line). */
export function statusHasNetAdmin(statusText: string): boolean | null {
  const hex = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(statusText)?.[1];
  if (hex === undefined) return null;
  return ((BigInt(`0x${hex}`) >> CAP_NET_ADMIN) & 1n) === 1n;
}

/** Throws a clear error when this process lacks CAP_NET_ADMIN; unknown (no /proc) passes. */
export function requireNetAdmin(what: string, statusText: () => string = () => readFileSync('/proc/self/status', 'utf8')): void {
  let text: string;
  try {
    text = statusText();
  } catch {
    return;
  }
  if (statusHasNetAdmin(text) === false) {
    throw new KproxyError(
      'E_EXEC',
      `${what} needs CAP_NET_ADMIN (run it as root): it programs this network namespace's firewall rules`,
    );
  }
}
