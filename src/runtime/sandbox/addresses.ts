/**
 * IPv4 address arithmetic for the sandbox's allocators (pod IPs, ClusterIPs, load-balancer IPs,
 * podCIDRs, nodePorts). Pure and deterministic: the lowest free value is always taken.
 */
import { KproxyError } from '../../core/errors.js';
import { parseCIDR, parseIP } from '../../core/net/ip.js';

export interface IPv4Range {
  /** Network address as an unsigned 32-bit integer. */
  readonly network: number;
  readonly prefixLength: number;
  readonly text: string;
}

export function ipv4ToInt(ip: string): number | null {
  const parsed = parseIP(ip);
  if (parsed?.family !== 'IPv4') return null;
  const [a = 0, b = 0, c = 0, d = 0] = parsed.bytes;
  return ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
}

function intToIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}

export function parseIPv4Range(cidr: string): IPv4Range | null {
  const parsed = parseCIDR(cidr);
  if (parsed?.family !== 'IPv4') return null;
  const network = ipv4ToInt(parsed.network.text);
  if (network === null) return null;
  return { network, prefixLength: parsed.prefixLength, text: parsed.text };
}

function rangeSize(range: IPv4Range): number {
  return 2 ** (32 - range.prefixLength);
}

export function rangeContains(range: IPv4Range, ip: string): boolean {
  const n = ipv4ToInt(ip);
  return n !== null && n >= range.network && n < range.network + rangeSize(range);
}

export function rangesOverlap(a: IPv4Range, b: IPv4Range): boolean {
  return a.network < b.network + rangeSize(b) && b.network < a.network + rangeSize(a);
}

/**
 * The lowest address of `range` at offset >= `firstOffset` (and below the broadcast address)
 * that is not in `used`. Throws E_SANDBOX naming `what` when the range is full.
 */
export function lowestFreeAddress(
  range: IPv4Range,
  firstOffset: number,
  used: ReadonlySet<string>,
  what: string,
): string {
  const last = range.network + rangeSize(range) - 2;
  for (let n = range.network + firstOffset; n <= last; n++) {
    const ip = intToIPv4(n);
    if (!used.has(ip)) return ip;
  }
  throw new KproxyError('E_SANDBOX', `no free address left in ${range.text} for ${what}`);
}

/** The highest usable address of `range` not in `used` (client pods take addresses from the top). */
export function highestFreeAddress(range: IPv4Range, used: ReadonlySet<string>, what: string): string {
  for (let n = range.network + rangeSize(range) - 2; n > range.network; n--) {
    const ip = intToIPv4(n);
    if (!used.has(ip)) return ip;
  }
  throw new KproxyError('E_SANDBOX', `no free address left in ${range.text} for ${what}`);
}

const NODE_PORT_MIN = 30000;
const NODE_PORT_MAX = 32767;

/** The lowest port of the NodePort range not in `used`. */
export function lowestFreeNodePort(used: ReadonlySet<number>, what: string): number {
  for (let port = NODE_PORT_MIN; port <= NODE_PORT_MAX; port++) {
    if (!used.has(port)) return port;
  }
  throw new KproxyError('E_SANDBOX', `no free nodePort left in ${NODE_PORT_MIN}-${NODE_PORT_MAX} for ${what}`);
}
