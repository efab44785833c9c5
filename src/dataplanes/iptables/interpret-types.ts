/**
 * The typed meaning of one iptables rule (what interpretRule returns): the matches and the target
 * kube-proxy (old and new) and its peers use, each a discriminated union member. Whatever the
 * interpreter does not understand is kept as an explicit `unknown` element with its words, so a
 * rule is never misread silently; the tracer refuses to guess only when a packet reaches it.
 */

/** An inclusive port range; a single port has `from === to`. */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

export type AddressField = 'src' | 'dst';

/** Protocol modules that own `--dport` / `--sport`. */
export type PortModule = 'tcp' | 'udp' | 'sctp' | 'udplite';

/** Route types `-m addrtype` knows (uppercase, as iptables writes them). */
export const ADDRESS_TYPES = [
  'UNSPEC', 'UNICAST', 'LOCAL', 'BROADCAST', 'ANYCAST', 'MULTICAST',
  'BLACKHOLE', 'UNREACHABLE', 'PROHIBIT', 'THROW', 'NAT', 'XRESOLVE',
] as const;
export type AddressType = (typeof ADDRESS_TYPES)[number];

export interface AddressTypeTest {
  readonly invert: boolean;
  readonly types: readonly AddressType[];
}

/** Conntrack states of `-m conntrack --ctstate` (SNAT/DNAT are virtual states) and `-m state --state`. */
export const CONNTRACK_STATES = ['INVALID', 'NEW', 'ESTABLISHED', 'RELATED', 'UNTRACKED', 'SNAT', 'DNAT'] as const;
export type ConntrackState = (typeof CONNTRACK_STATES)[number];

export type RecentCommand = 'set' | 'rcheck' | 'update' | 'remove';

/** TCP header flag bits as `-m tcp --tcp-flags` names them (ALL is these six, NONE is 0). */
export const TCP_FLAG_BITS = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20 } as const;
export type TcpFlag = keyof typeof TCP_FLAG_BITS;

export interface InvertibleFlag {
  readonly invert: boolean;
}

export interface InterfaceTest {
  readonly invert: boolean;
  /** An interface name; a trailing `+` matches every name with that prefix. */
  readonly name: string;
}

export type MatchSpec =
  /** `-s` / `-d`: canonical CIDRs (a bare IP is /32 or /128); several when written comma-separated. */
  | { readonly kind: 'address'; readonly field: AddressField; readonly invert: boolean; readonly cidrs: readonly string[] }
  /** `-p`: a lowercase protocol name (`tcp`, `udp`, `sctp`, `icmp`, `all`, ...) or a number. */
  | { readonly kind: 'protocol'; readonly invert: boolean; readonly protocol: string }
  | { readonly kind: 'interface'; readonly field: 'in' | 'out'; readonly invert: boolean; readonly name: string }
  /** `-f`: second and later fragments. */
  | { readonly kind: 'fragment'; readonly invert: boolean }
  /** `-m tcp|udp|sctp --dport/--sport`. */
  | { readonly kind: 'port'; readonly module: PortModule; readonly field: AddressField; readonly invert: boolean; readonly range: PortRange }
  /**
   * `-m tcp [!] --tcp-flags MASK COMP` and `[!] --syn` (= `--tcp-flags FIN,SYN,RST,ACK SYN`), as
   * bit sets of TCP_FLAG_BITS: matches when (flags & mask) == comp.
   */
  | { readonly kind: 'tcpflags'; readonly invert: boolean; readonly mask: number; readonly comp: number }
  /** `-m multiport --dports/--sports/--ports` (`any`: source or destination). */
  | { readonly kind: 'multiport'; readonly field: AddressField | 'any'; readonly invert: boolean; readonly ranges: readonly PortRange[] }
  | {
      readonly kind: 'addrtype';
      readonly src: AddressTypeTest | null;
      readonly dst: AddressTypeTest | null;
      readonly limitIface: 'in' | 'out' | null;
    }
  /** `-m mark [!] --mark value[/mask]` (mask defaults to 0xffffffff). */
  | { readonly kind: 'mark'; readonly invert: boolean; readonly value: number; readonly mask: number }
  | { readonly kind: 'ctstate'; readonly module: 'conntrack' | 'state'; readonly invert: boolean; readonly states: readonly ConntrackState[] }
  | { readonly kind: 'comment'; readonly text: string }
  /** `-m statistic --mode random --probability p`: `probability` as written (the kernel rounds it, see kernelProbability). */
  | { readonly kind: 'random'; readonly invert: boolean; readonly probability: number; readonly written: string }
  /** `-m statistic --mode nth --every n [--packet p]`. */
  | { readonly kind: 'nth'; readonly invert: boolean; readonly every: number; readonly packet: number }
  | {
      readonly kind: 'recent';
      readonly name: string;
      readonly command: RecentCommand;
      readonly invert: boolean;
      readonly seconds: number | null;
      readonly reap: boolean;
      readonly hitcount: number | null;
      readonly rttl: boolean;
      /** The address mask (`--mask`), canonical; null when not written (all bits). */
      readonly mask: string | null;
      /** `--rsource` (default) or `--rdest`. */
      readonly side: AddressField;
    }
  /** `-m set [!] --match-set NAME src,dst`. */
  | { readonly kind: 'set'; readonly invert: boolean; readonly name: string; readonly flags: readonly AddressField[] }
  | {
      readonly kind: 'physdev';
      readonly physdevIn: InterfaceTest | null;
      readonly physdevOut: InterfaceTest | null;
      readonly isIn: InvertibleFlag | null;
      readonly isOut: InvertibleFlag | null;
      readonly isBridged: InvertibleFlag | null;
    }
  /** `-m nfacct --nfacct-name NAME`: counts, always matches. */
  | { readonly kind: 'nfacct'; readonly name: string }
  /**
   * Anything not understood: an unknown module, an option of a known module that is not
   * interpreted, or a value that does not parse. `module` is the `-m` name (`ip` for the
   * generic options such as `-s`); `words` are the rule's words of that part.
   */
  | { readonly kind: 'unknown'; readonly module: string; readonly words: readonly string[]; readonly reason: string };

/** One address/port range of a NAT target (`--to-destination 10.0.0.1:80`, `[fd00::1]:80`, `:8080`). */
export interface NatRange {
  /** First and last address of the range; null when only ports are given. */
  readonly addressFrom: string | null;
  readonly addressTo: string | null;
  readonly ports: PortRange | null;
  /** The text as written. */
  readonly written: string;
}

export type MarkOperation = 'set-xmark' | 'set-mark' | 'or-mark' | 'xor-mark' | 'and-mark';

export type TargetSpec =
  /** A rule without `-j` / `-g` (it only counts packets, or marks via a match's side effect). */
  | { readonly kind: 'none' }
  /** `-j CHAIN` or `-g CHAIN`; also any target name the interpreter does not know (the lowering checks the chain exists). */
  | { readonly kind: 'jump'; readonly chain: string; readonly goto: boolean }
  | { readonly kind: 'accept' }
  | { readonly kind: 'drop' }
  | { readonly kind: 'return' }
  | { readonly kind: 'reject'; readonly rejectWith: string | null }
  | { readonly kind: 'dnat'; readonly to: readonly NatRange[]; readonly random: boolean; readonly persistent: boolean }
  | {
      readonly kind: 'snat';
      readonly to: readonly NatRange[];
      readonly random: boolean;
      readonly randomFully: boolean;
      readonly persistent: boolean;
    }
  | { readonly kind: 'masquerade'; readonly toPorts: PortRange | null; readonly random: boolean; readonly randomFully: boolean }
  | { readonly kind: 'redirect'; readonly toPorts: PortRange | null; readonly random: boolean }
  /**
   * MARK in any spelling; `value`/`mask` are the kernel's form for every operation:
   * new mark = (old & ~mask) ^ value.
   */
  | { readonly kind: 'mark'; readonly operation: MarkOperation; readonly value: number; readonly mask: number }
  | { readonly kind: 'log'; readonly prefix: string | null; readonly level: string | null }
  | { readonly kind: 'unknown'; readonly target: string; readonly words: readonly string[]; readonly reason: string };

export interface RuleSpec {
  /** Matches in the order written (the kernel checks the `ip` part — -s -d -p -i -o -f — before modules). */
  readonly matches: readonly MatchSpec[];
  readonly target: TargetSpec;
  /** `-c packets bytes`, when written. */
  readonly counters: readonly [number, number] | null;
}
