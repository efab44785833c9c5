/** Field decoders shared by several kinds: protocols, port numbers, IP lists. */
import { parseIP } from '../net/ip.js';
import { PROTOCOLS, type IPFamily, type Protocol } from '../model/objects.js';
import { type Field, readInteger, readList, readString } from './fields.js';
import { isPortNumber } from './names.js';
import { type ObjectReporter, quote } from './report.js';

function isProtocol(s: string): s is Protocol {
  return (PROTOCOLS as readonly string[]).includes(s);
}

/** A protocol (absent means TCP, the API default); null when unusable (reported). */
export function decodeProtocol(f: Field, r: ObjectReporter, dropped: string): Protocol | null {
  const p = readString(f);
  if (p.kind === 'absent') return 'TCP';
  if (p.kind === 'bad') {
    r.error(f.path, `${p.problem}; ${dropped} is dropped`);
    return null;
  }
  if (isProtocol(p.value)) return p.value;
  r.error(f.path, `${quote(p.value)} is not a supported protocol (TCP, UDP or SCTP); ${dropped} is dropped`);
  return null;
}

/** A required port number 1..65535; null when absent or unusable (reported). */
export function decodeRequiredPort(f: Field, r: ObjectReporter, dropped: string): number | null {
  const p = readInteger(f);
  if (p.kind === 'absent') {
    r.error(f.path, `missing; ${dropped} is dropped`);
    return null;
  }
  if (p.kind === 'bad') {
    r.error(f.path, `${p.problem}; ${dropped} is dropped`);
    return null;
  }
  if (!isPortNumber(p.value)) {
    r.error(f.path, `${p.value} is not a port number (1-65535); ${dropped} is dropped`);
    return null;
  }
  return p.value;
}

/** A list of strings; entries of another type are dropped (reported). Null when not a list. */
export function decodeStringList(f: Field, r: ObjectReporter): { value: string; path: string }[] | null {
  const list = readList(f);
  if (list.kind === 'absent') return [];
  if (list.kind === 'bad') {
    r.error(f.path, `${list.problem} (dropped)`);
    return null;
  }
  const out: { value: string; path: string }[] = [];
  for (const item of list.value) {
    if (typeof item.value === 'string') out.push({ value: item.value, path: item.path });
    else r.error(item.path, `must be a string, not ${quote(item.value)} (dropped)`);
  }
  return out;
}

export function familyOf(ip: string): IPFamily | null {
  return parseIP(ip)?.family ?? null;
}

export function otherFamily(f: IPFamily): IPFamily {
  return f === 'IPv4' ? 'IPv6' : 'IPv4';
}
