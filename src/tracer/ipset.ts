/**
 * IP sets for `-m set --match-set`: `ipset save` output (`create NAME TYPE ...`, `add NAME
 * MEMBER [options]`) parsed into typed sets, and the membership test the kernel does. Hash and
 * bitmap sets of ip / net / port dimensions are supported (what kube-proxy's IPVS mode and
 * common firewalls use); other set types parse but cannot be evaluated (E_TRACE if reached).
 */
import { KproxyError } from '../core/errors.js';
import { cidrContains, parseCIDR, parseIP, type ParsedCIDR, type ParsedIP } from '../core/net/ip.js';
import { tokenizeLine } from '../dataplanes/iptables/tokenize.js';

export type SetDimension = 'ip' | 'net' | 'port' | 'other';

type MemberPart =
  | { readonly kind: 'address'; readonly cidr: ParsedCIDR }
  | { readonly kind: 'port'; readonly protocol: string | null; readonly from: number; readonly to: number }
  | { readonly kind: 'other'; readonly text: string };

interface SetMember {
  readonly parts: readonly MemberPart[];
  readonly nomatch: boolean;
}

export interface IpSet {
  readonly name: string;
  readonly type: string;
  readonly dimensions: readonly SetDimension[];
  readonly members: readonly SetMember[];
}

export type IpsetStore = ReadonlyMap<string, IpSet>;

export const EMPTY_IPSETS: IpsetStore = new Map();

function dimensionsOf(type: string): SetDimension[] {
  const colon = type.indexOf(':');
  if (colon < 0) return ['other'];
  const method = type.slice(0, colon);
  const dims = type.slice(colon + 1).split(',');
  if (method !== 'hash' && method !== 'bitmap') return ['other'];
  return dims.map((d) => (d === 'ip' || d === 'net' || d === 'port' ? d : 'other'));
}

/** `bitmap:port` members are bare ports of any protocol; in hash sets a bare port is TCP. */
function parsePart(dimension: SetDimension, text: string, bitmap: boolean): MemberPart | null {
  switch (dimension) {
    case 'ip':
    case 'net': {
      const cidr = text.includes('/') ? parseCIDR(text) : ipAsCidr(parseIP(text));
      return cidr === null ? null : { kind: 'address', cidr };
    }
    case 'port': {
      const m = /^(?:([a-z0-9-]+):)?(\d+)(?:-(\d+))?$/.exec(text);
      if (m === null) return null;
      const from = Number(m[2]);
      const to = m[3] === undefined ? from : Number(m[3]);
      if (from > 65535 || to > 65535 || from > to) return null;
      return { kind: 'port', protocol: m[1] ?? (bitmap ? null : 'tcp'), from, to };
    }
    case 'other':
      return { kind: 'other', text };
  }
}

function ipAsCidr(ip: ParsedIP | null): ParsedCIDR | null {
  if (ip === null) return null;
  return parseCIDR(`${ip.text}/${ip.family === 'IPv4' ? 32 : 128}`);
}

/** Parses `ipset save` output (or `ipset restore` input). */
export function parseIpsetSave(text: string, source = 'ipset'): IpsetStore {
  const sets = new Map<string, { name: string; type: string; dimensions: SetDimension[]; members: SetMember[] }>();
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = raw.trim();
    const bad = (msg: string): KproxyError => new KproxyError('E_PARSE', `${source}:${index + 1}: ${msg}: ${line}`);
    if (line === '' || line.startsWith('#') || line === 'COMMIT') return;
    const words = tokenizeLine(line, index + 1).words;
    const [command, name, value] = words;
    if (name === undefined || value === undefined) throw bad('expected "create NAME TYPE ..." or "add NAME MEMBER ..."');
    if (command === 'create' || command === '-N' || command === 'n') {
      sets.set(name, { name, type: value, dimensions: dimensionsOf(value), members: [] });
      return;
    }
    if (command === 'add' || command === '-A' || command === 'a') {
      const set = sets.get(name);
      if (set === undefined) throw bad(`set ${name} is not created before this line`);
      const texts = set.dimensions.length === 1 ? [value] : value.split(',');
      if (texts.length !== set.dimensions.length) throw bad(`a ${set.type} member has ${set.dimensions.length} parts`);
      const parts: MemberPart[] = [];
      texts.forEach((t, i) => {
        const part = parsePart(set.dimensions[i] ?? 'other', t, set.type.startsWith('bitmap:'));
        if (part === null) throw bad(`invalid ${set.dimensions[i] ?? ''} "${t}"`);
        parts.push(part);
      });
      set.members.push({ parts, nomatch: words.slice(3).includes('nomatch') });
      return;
    }
    throw bad(`unsupported ipset command "${command ?? ''}"`);
  });
  return sets;
}

/** What a packet offers for one dimension of a set lookup. */
export interface PacketSide {
  readonly ip: ParsedIP;
  readonly protocol: string;
  readonly port: number;
}

function partMatches(part: MemberPart, side: PacketSide): boolean {
  switch (part.kind) {
    case 'address':
      return cidrContains(part.cidr, side.ip);
    case 'port':
      return (part.protocol === null || part.protocol === side.protocol) && side.port >= part.from && side.port <= part.to;
    case 'other':
      return false;
  }
}

function specificity(member: SetMember): number {
  return member.parts.reduce((n, p) => n + (p.kind === 'address' ? p.cidr.prefixLength : 0), 0);
}

/**
 * Whether the packet (one side per flag) is in the set. A `nomatch` entry, when it is the most
 * specific entry that matches, makes the lookup fail (hash:net semantics).
 */
export function setContains(set: IpSet, sides: readonly PacketSide[]): boolean {
  if (set.dimensions.includes('other')) {
    throw new KproxyError('E_TRACE', `ipset ${set.name}: sets of type ${set.type} are not traced`);
  }
  if (sides.length < set.dimensions.length) {
    throw new KproxyError('E_TRACE', `ipset ${set.name} (${set.type}) needs ${set.dimensions.length} src/dst flags, the rule gives ${sides.length}`);
  }
  let best: SetMember | null = null;
  for (const member of set.members) {
    const all = member.parts.every((part, i) => {
      const side = sides[i];
      return side !== undefined && partMatches(part, side);
    });
    if (all && (best === null || specificity(member) > specificity(best))) best = member;
  }
  return best !== null && !best.nomatch;
}
