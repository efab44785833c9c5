/** Field decoders shared by several kinds: protocols, port numbers, IP lists. */
import { parseIP } from '../net/ip.js';
import { PROTOCOLS, type IPFamily, type Protocol } from '../model/objects.js';
import { type Field, readInteger, readList, readRecord, readString } from './fields.js';
import { MAX_RULE_NAME_LENGTH, isDNS1123Label, isIanaServiceName, isPortNumber, isRuleSafeName } from './names.js';
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

/** Whether a list item is a mapping; when not, it is reported and dropped. */
export function isMappingItem(item: Field, r: ObjectReporter): boolean {
  const rec = readRecord(item);
  if (rec.kind === 'ok') return true;
  r.error(item.path, `${rec.kind === 'bad' ? rec.problem : 'must be a mapping, not null'}; it is dropped`);
  return false;
}

/** The items of a list field; a value that is not a list is reported and read as empty. */
export function decodeListItems(f: Field, r: ObjectReporter): Field[] {
  const list = readList(f);
  if (list.kind === 'bad') r.error(f.path, `${list.problem} (dropped)`);
  return list.kind === 'ok' ? list.value : [];
}

/** An optional string; "" and absent are null, a non-string is reported and dropped. */
export function decodeOptionalString(f: Field, r: ObjectReporter): string | null {
  const s = readString(f);
  if (s.kind === 'bad') r.error(f.path, `${s.problem} (dropped)`);
  return s.kind === 'ok' && s.value !== '' ? s.value : null;
}

/** Service and EndpointSlice port names are DNS-1123 labels; container port names are IANA service names. */
export type PortNameRule = 'a DNS-1123 label' | 'IANA_SVC_NAME';

/** A port's name ("" when absent); null when it is not a valid name under `rule` (reported: `dropped` is dropped). */
export function decodePortName(f: Field, r: ObjectReporter, dropped: string, rule: PortNameRule): string | null {
  const n = readString(f);
  if (n.kind === 'absent') return '';
  if (n.kind === 'bad') {
    r.error(f.path, `${n.problem}; ${dropped} is dropped`);
    return null;
  }
  const valid = rule === 'IANA_SVC_NAME' ? isIanaServiceName : isDNS1123Label;
  if (n.value === '' || valid(n.value)) return n.value;
  if (isRuleSafeName(n.value, MAX_RULE_NAME_LENGTH)) {
    r.warning(f.path, `${quote(n.value)} is not a valid port name (${rule}): an API server refuses it; kube-proxy uses it as it is`);
    return n.value;
  }
  r.error(
    f.path,
    `${quote(n.value)} is not a valid port name (${rule}), and a name in a rule may only hold letters, digits, ".", "_" and "-" ` +
      `(at most ${MAX_RULE_NAME_LENGTH}); ${dropped} is dropped`,
  );
  return null;
}
