/**
 * IP and CIDR parsing as kube-proxy does it (k8s.io/utils/net ParseIPSloppy / ParseCIDRSloppy):
 * IPv4 parts with leading zeros are accepted and read as decimal ("010.001.0.1" is 10.1.0.1),
 * IPv4-mapped IPv6 addresses count as IPv4, and output is canonical (Go's net.IP.String()).
 * Pure: no node:* imports.
 */
import type { IPFamily } from '../model/objects.js';

export interface ParsedIP {
  readonly family: IPFamily;
  /** 4 bytes for IPv4, 16 for IPv6. */
  readonly bytes: readonly number[];
  /** Canonical text: dotted quad, or RFC 5952 compressed IPv6. */
  readonly text: string;
}

export interface ParsedCIDR {
  readonly family: IPFamily;
  /** The network address (host bits cleared), as Go's IPNet does. */
  readonly network: ParsedIP;
  readonly prefixLength: number;
  /** Canonical text, e.g. `203.0.113.0/25`. */
  readonly text: string;
}

/** Four decimal parts of at most three digits each (leading zeros allowed), each ≤ 255. */
function parseIPv4Parts(s: string): number[] | null {
  const out: number[] = [];
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46; // end of input acts as a final '.'
    if (c === 46) {
      if (digits === 0 || value > 255) return null;
      out.push(value);
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      value = value * 10 + (c - 48);
      digits++;
    } else {
      return null;
    }
  }
  return out.length === 4 ? out : null;
}

function parseIPv6Bytes(input: string): number[] | null {
  let s = input;
  if (s.includes('%')) return null;
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.')) {
    const v4 = parseIPv4Parts(s.slice(lastColon + 1));
    if (v4 === null) return null;
    tail = v4;
    s = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const toGroups = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const head = toGroups(halves[0] ?? '');
  const rest = halves.length === 2 ? toGroups(halves[1] ?? '') : [];
  if (head === null || rest === null) return null;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - rest.length;
    if (missing < 1) return null;
    groups = [...head, ...new Array<number>(missing).fill(0), ...rest];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return null;
  const bytes: number[] = [];
  for (const g of groups) bytes.push(g >> 8, g & 0xff);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

function isV4Mapped(b: readonly number[]): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

export function formatIPv6(bytes: readonly number[]): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  // Longest run of two or more zero groups is compressed (RFC 5952, first on ties).
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function fromBytes(bytes: readonly number[]): ParsedIP {
  if (bytes.length === 4) return { family: 'IPv4', bytes, text: bytes.join('.') };
  if (isV4Mapped(bytes)) {
    const v4 = bytes.slice(12);
    return { family: 'IPv4', bytes: v4, text: v4.join('.') };
  }
  return { family: 'IPv6', bytes, text: formatIPv6(bytes) };
}

/** Parses an IP the way kube-proxy does; null when it cannot be parsed. */
export function parseIP(s: string): ParsedIP | null {
  if (s.includes(':')) {
    const b = parseIPv6Bytes(s);
    return b === null ? null : fromBytes(b);
  }
  const v4 = parseIPv4Parts(s);
  return v4 === null ? null : fromBytes(v4);
}

export function canonicalIP(s: string): string | null {
  return parseIP(s)?.text ?? null;
}

export function ipFamilyOf(s: string): IPFamily | null {
  return parseIP(s)?.family ?? null;
}

/** Parses `IP/prefix`; the result is the masked network. Null when unparsable. */
export function parseCIDR(s: string): ParsedCIDR | null {
  const slash = s.indexOf('/');
  if (slash < 0) return null;
  const ipPart = s.slice(0, slash);
  const prefixPart = s.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(prefixPart)) return null;
  const ip = parseIP(ipPart);
  if (ip === null) return null;
  // A mapped IPv4 written in IPv6 form keeps IPv6 prefix semantics in Go; we only accept
  // plain forms for CIDRs (Go would do the same for the common cases).
  const bits = ip.bytes.length * 8;
  const prefixLength = Number.parseInt(prefixPart, 10);
  if (prefixLength > bits) return null;
  const masked = ip.bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, prefixLength - i * 8));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
  const network = fromBytes(masked);
  return { family: ip.family, network, prefixLength, text: `${network.text}/${prefixLength}` };
}

export function cidrContains(cidr: ParsedCIDR, ip: ParsedIP): boolean {
  if (cidr.family !== ip.family) return false;
  for (let i = 0; i < ip.bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, cidr.prefixLength - i * 8));
    const mask = (0xff << (8 - keep)) & 0xff;
    if (((ip.bytes[i] ?? 0) & mask) !== (cidr.network.bytes[i] ?? 0)) return false;
  }
  return true;
}

/** Whether every address of `inner` is in `outer`. */
export function cidrWithin(inner: ParsedCIDR, outer: ParsedCIDR): boolean {
  return inner.family === outer.family && outer.prefixLength <= inner.prefixLength && cidrContains(outer, inner.network);
}

/** `IP:port` as Go's net.JoinHostPort writes it (IPv6 bracketed). */
export function joinHostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}
