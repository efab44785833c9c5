/**
 * Parsers for the values inside iptables rule words: addresses, ports, marks, NAT ranges and
 * probabilities. Each returns null when the value does not parse (the caller turns that into an
 * explicit `unknown` element), never throws.
 */
import { parseCIDR, parseIP } from '../../core/net/ip.js';
import { TCP_FLAG_BITS, type NatRange, type PortRange, type TcpFlag } from './interpret-types.js';

/** `-s/-d` value: an IP (→ /32 or /128) or a CIDR, canonical; a dotted mask (`/255.255.0.0`) too. */
export function parseAddressWord(word: string): string | null {
  const slash = word.indexOf('/');
  if (slash < 0) {
    const ip = parseIP(word);
    if (ip === null) return null;
    return `${ip.text}/${ip.family === 'IPv4' ? 32 : 128}`;
  }
  const maskPart = word.slice(slash + 1);
  if (maskPart.includes('.') || maskPart.includes(':')) {
    const prefix = maskToPrefix(maskPart);
    if (prefix === null) return null;
    return parseCIDR(`${word.slice(0, slash)}/${prefix}`)?.text ?? null;
  }
  return parseCIDR(word)?.text ?? null;
}

/** A contiguous netmask in address form (`255.255.255.0`) as a prefix length. */
function maskToPrefix(mask: string): number | null {
  const ip = parseIP(mask);
  if (ip === null) return null;
  let prefix = 0;
  let ended = false;
  for (const byte of ip.bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      const set = ((byte >> bit) & 1) === 1;
      if (set && ended) return null;
      if (set) prefix++;
      else ended = true;
    }
  }
  return prefix;
}

function parsePort(word: string): number | null {
  if (!/^\d{1,5}$/.test(word)) return null;
  const n = Number(word);
  return n <= 65535 ? n : null;
}

/** `80`, `80:90`, `:90`, `80:` (iptables' port range syntax). */
export function parsePortRange(word: string, separator = ':'): PortRange | null {
  const at = word.indexOf(separator);
  if (at < 0) {
    const p = parsePort(word);
    return p === null ? null : { from: p, to: p };
  }
  const fromText = word.slice(0, at);
  const toText = word.slice(at + 1);
  const from = fromText === '' ? 0 : parsePort(fromText);
  const to = toText === '' ? 65535 : parsePort(toText);
  if (from === null || to === null || from > to) return null;
  return { from, to };
}

/** `-m multiport` lists: `80,443,8000:8080`. */
export function parsePortList(word: string): readonly PortRange[] | null {
  const out: PortRange[] = [];
  for (const part of word.split(',')) {
    const range = parsePortRange(part);
    if (range === null) return null;
    out.push(range);
  }
  return out.length > 0 ? out : null;
}

/** An unsigned 32-bit number as strtoul(…, 0) reads it: `0x` hex, leading `0` octal, else decimal. */
export function parseUint32(word: string): number | null {
  let n: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(word)) n = Number.parseInt(word.slice(2), 16);
  else if (/^0[0-7]*$/.test(word)) n = word.length === 1 ? 0 : Number.parseInt(word.slice(1), 8);
  else if (/^[1-9]\d*$/.test(word)) n = Number(word);
  else return null;
  return n <= 0xffffffff ? n : null;
}

/** `value[/mask]`; the mask defaults to all ones. */
export function parseMarkWord(word: string): { value: number; mask: number; hasMask: boolean } | null {
  const slash = word.indexOf('/');
  const value = parseUint32(slash < 0 ? word : word.slice(0, slash));
  if (value === null) return null;
  if (slash < 0) return { value, mask: 0xffffffff, hasMask: false };
  const mask = parseUint32(word.slice(slash + 1));
  if (mask === null) return null;
  return { value, mask, hasMask: true };
}

/**
 * A NAT range: `ip[-ip][:port[-port]]`, IPv6 as `[ip]:port` / `[ip]-[ip]:port` or a bare IPv6
 * address without port, or `:port` alone.
 */
export function parseNatRange(word: string): NatRange | null {
  let addressPart: string;
  let portPart: string | null;
  if (word.startsWith('[')) {
    const close = word.lastIndexOf(']');
    if (close < 0) return null;
    addressPart = word.slice(0, close + 1);
    const tail = word.slice(close + 1);
    if (tail === '') portPart = null;
    else if (tail.startsWith(':')) portPart = tail.slice(1);
    else return null;
  } else if ((word.match(/:/g) ?? []).length > 1) {
    addressPart = word;
    portPart = null;
  } else {
    const colon = word.indexOf(':');
    addressPart = colon < 0 ? word : word.slice(0, colon);
    portPart = colon < 0 ? null : word.slice(colon + 1);
  }
  let addressFrom: string | null = null;
  let addressTo: string | null = null;
  if (addressPart !== '') {
    const [first, second, ...more] = splitAddressRange(addressPart);
    if (first === undefined || more.length > 0) return null;
    addressFrom = parseIP(unbracket(first))?.text ?? null;
    addressTo = second === undefined ? addressFrom : (parseIP(unbracket(second))?.text ?? null);
    if (addressFrom === null || addressTo === null) return null;
  }
  let ports: PortRange | null = null;
  if (portPart !== null) {
    ports = parsePortRange(portPart, '-');
    if (ports === null) return null;
  }
  if (addressFrom === null && ports === null) return null;
  return { addressFrom, addressTo, ports, written: word };
}

function splitAddressRange(part: string): string[] {
  if (part.startsWith('[')) return part.split(/(?<=\])-(?=\[)/);
  return part.split('-');
}

function unbracket(s: string): string {
  return s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
}

/** `--to-ports 8080` or `8080-8090` (MASQUERADE, REDIRECT). */
export function parseToPorts(word: string): PortRange | null {
  return parsePortRange(word, '-');
}

/** 2^31: the kernel keeps a statistic probability as an integer out of this. */
export const PROBABILITY_SCALE = 0x80000000;

/**
 * What the kernel keeps for `--probability p`: iptables stores lround(p · 2^31) and a packet
 * matches when a random 31-bit number is below it. `0.3333333333` → 715827883, i.e.
 * 715827883 / 2^31 = 0.333333333489…, which iptables-save prints as `0.33333333349`.
 */
export function kernelProbability(p: number): number {
  // lround rounds halves away from zero; p >= 0 here, so floor(x + 0.5) is the same.
  return Math.floor(p * PROBABILITY_SCALE + 0.5);
}

/**
 * How iptables-save prints a stored probability: C's `%.11f` of numerator / 2^31, computed
 * exactly (numerator / 2^31 = numerator · 5^31 / 10^31) with C's round-half-even on ties.
 */
export function formatSavedProbability(numerator: number): string {
  const scaled = BigInt(numerator) * 5n ** 31n; // the value times 10^31
  const unit = 10n ** 20n; // 31 - 11 digits dropped
  let kept = scaled / unit;
  const rest = scaled % unit;
  const half = unit / 2n;
  if (rest > half || (rest === half && kept % 2n === 1n)) kept += 1n;
  const digits = kept.toString().padStart(12, '0');
  return `${digits.slice(0, -11)}.${digits.slice(-11)}`;
}

/** `--probability` value: a decimal number in [0, 1]. */
export function parseProbability(word: string): number | null {
  if (!/^(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(word)) return null;
  const p = Number(word);
  return p >= 0 && p <= 1 ? p : null;
}

export function parseNonNegativeInt(word: string): number | null {
  if (!/^\d+$/.test(word)) return null;
  const n = Number(word);
  return Number.isSafeInteger(n) ? n : null;
}

/** `--tcp-flags` list: flag names (any case) joined by `,`, plus `ALL` and `NONE`, as a bit set. */
export function parseTcpFlags(word: string): number | null {
  let bits = 0;
  for (const part of word.split(',')) {
    const name = part.toUpperCase();
    if (name === 'ALL') {
      bits |= 0x3f;
      continue;
    }
    if (name === 'NONE') continue;
    const flag = (Object.keys(TCP_FLAG_BITS) as TcpFlag[]).find((f) => f === name);
    if (flag === undefined) return null;
    bits |= TCP_FLAG_BITS[flag];
  }
  return bits;
}
