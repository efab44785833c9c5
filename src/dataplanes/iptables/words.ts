/**
 * Small word builders shared by the current and legacy renderers: the exact spellings kube-proxy
 * uses for comments, protocol matches, marks and probabilities.
 */
import type { LocalTrafficDetector } from '../../core/desired/types.js';

export function comment(text: string): readonly string[] {
  return ['-m', 'comment', '--comment', text];
}

export function protoMatch(proto: string): readonly string[] {
  return ['-m', proto, '-p', proto];
}

/** Go's `%#08x`: `0x` followed by at least 8 zero-padded hex digits (0x4000 -> `0x00004000`). */
export function formatMark(mark: number): string {
  return `0x${(mark >>> 0).toString(16).padStart(8, '0')}`;
}

const probabilityCache: string[] = [];

/**
 * Go's `%0.10f` of 1/n. JavaScript's toFixed rounds exact ties up where Go rounds them to
 * even; the exact decimal expansion (toFixed(100) is exact for these magnitudes) tells ties apart.
 */
export function probability(n: number): string {
  const cached = probabilityCache[n];
  if (cached !== undefined) return cached;
  const value = goFixed(1 / n, 10);
  if (n < 100_000) probabilityCache[n] = value;
  return value;
}

function goFixed(x: number, digits: number): string {
  const rounded = x.toFixed(digits);
  const exact = x.toFixed(100).replace(/0+$/, '');
  const dot = exact.indexOf('.');
  const tail = dot < 0 ? '' : exact.slice(dot + 1 + digits);
  if (tail !== '5') return rounded;
  // Exactly half way: Go keeps the even neighbour, toFixed took the larger one.
  const kept = exact.slice(0, dot + 1 + digits);
  const lastDigit = Number(kept.charAt(kept.length - 1));
  return lastDigit % 2 === 0 ? kept : rounded;
}

/** `! -s CIDR` / `! -i IFACE` / `! -i PREFIX+`: traffic that does not come from a local pod. */
export function ifNotLocal(detector: LocalTrafficDetector): readonly string[] {
  switch (detector.kind) {
    case 'cidr':
      return ['!', '-s', detector.cidr];
    case 'bridge':
      return ['!', '-i', detector.iface];
    case 'prefix':
      return ['!', '-i', `${detector.prefix}+`];
  }
}

/** `-s CIDR` / `-i IFACE` / `-i PREFIX+`: traffic from a local pod. */
export function ifLocal(detector: LocalTrafficDetector): readonly string[] {
  switch (detector.kind) {
    case 'cidr':
      return ['-s', detector.cidr];
    case 'bridge':
      return ['-i', detector.iface];
    case 'prefix':
      return ['-i', `${detector.prefix}+`];
  }
}

/** Whether an address is a loopback address (127.0.0.0/8 or ::1), as Go's IP.IsLoopback. */
export function isLoopbackIP(ip: string): boolean {
  return ip === '::1' || /^127\./.test(ip);
}
