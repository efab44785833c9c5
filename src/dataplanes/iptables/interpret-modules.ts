/**
 * The `-m` match modules the interpreter understands: which options each owns (and how many
 * values each takes), and how the collected options become typed MatchSpec elements.
 * Options a module owns but the interpreter does not evaluate (`--tcp-option`, `--ctorigdst`, ...)
 * become explicit `unknown` elements.
 */
import {
  ADDRESS_TYPES,
  CONNTRACK_STATES,
  type AddressField,
  type AddressType,
  type AddressTypeTest,
  type ConntrackState,
  type InterfaceTest,
  type InvertibleFlag,
  type MatchSpec,
  type PortModule,
  type RecentCommand,
  TCP_FLAG_BITS,
} from './interpret-types.js';
import {
  parseAddressWord,
  parseMarkWord,
  parseNonNegativeInt,
  parsePortList,
  parsePortRange,
  parseProbability,
  parseTcpFlags,
} from './interpret-values.js';

/** One option as written in a rule, bound to the module instance that owns it. */
export interface CollectedOption {
  /** Canonical option name without dashes (`dport` for `--destination-port`). */
  readonly name: string;
  readonly args: readonly string[];
  readonly invert: boolean;
  /** The rule's words of this option, including `!` and the values. */
  readonly words: readonly string[];
}

export interface OptionDef {
  readonly canonical: string;
  readonly arity: number;
}

export interface ModuleDef {
  /** Keyed by the spelled option (`--dport`, `--destination-port`). */
  readonly options: ReadonlyMap<string, OptionDef>;
  build(moduleName: string, options: readonly CollectedOption[]): MatchSpec[];
}

type OptionTable = Readonly<Record<string, readonly [canonical: string, arity: number]>>;

export function optionMap(table: OptionTable): ReadonlyMap<string, OptionDef> {
  const map = new Map<string, OptionDef>();
  for (const [spelled, [canonical, arity]] of Object.entries(table)) map.set(spelled, { canonical, arity });
  return map;
}

function unknownOption(module: string, option: CollectedOption, reason: string): MatchSpec {
  return { kind: 'unknown', module, words: option.words, reason };
}

/** Reports options given more than once (iptables refuses them) as unknown and keeps the first of each. */
function splitDuplicates(module: string, options: readonly CollectedOption[]): { unique: Map<string, CollectedOption>; errors: MatchSpec[] } {
  const unique = new Map<string, CollectedOption>();
  const errors: MatchSpec[] = [];
  for (const o of options) {
    if (unique.has(o.name)) errors.push(unknownOption(module, o, `--${o.name} given twice`));
    else unique.set(o.name, o);
  }
  return { unique, errors };
}

/** Builds one option of a protocol module other than --dport / --sport. */
type ExtraOption = (moduleName: string, option: CollectedOption, all: ReadonlyMap<string, CollectedOption>) => MatchSpec;

function notInterpretedOption(moduleName: string, option: CollectedOption): MatchSpec {
  return unknownOption(moduleName, option, `-m ${moduleName} --${option.name} is not interpreted`);
}

function portModule(extraOptions: OptionTable, buildExtra: ExtraOption = notInterpretedOption): ModuleDef {
  return {
    options: optionMap({
      '--dport': ['dport', 1],
      '--destination-port': ['dport', 1],
      '--sport': ['sport', 1],
      '--source-port': ['sport', 1],
      ...extraOptions,
    }),
    build(moduleName, options) {
      const module = moduleName as PortModule;
      const { unique, errors } = splitDuplicates(moduleName, options);
      const out: MatchSpec[] = [...errors];
      for (const o of unique.values()) {
        if (o.name !== 'dport' && o.name !== 'sport') {
          out.push(buildExtra(moduleName, o, unique));
          continue;
        }
        const range = parsePortRange(o.args[0] ?? '');
        if (range === null) {
          out.push(unknownOption(moduleName, o, `not a port or port range: ${o.args[0] ?? ''}`));
          continue;
        }
        const field: AddressField = o.name === 'dport' ? 'dst' : 'src';
        out.push({ kind: 'port', module, field, invert: o.invert, range });
      }
      return out;
    },
  };
}

/** `--syn`: SYN set, RST / ACK / FIN clear (the first packet of a connection). */
const SYN_MASK = TCP_FLAG_BITS.FIN | TCP_FLAG_BITS.SYN | TCP_FLAG_BITS.RST | TCP_FLAG_BITS.ACK;

function tcpOption(moduleName: string, o: CollectedOption, all: ReadonlyMap<string, CollectedOption>): MatchSpec {
  if (o.name !== 'syn' && o.name !== 'tcp-flags') return notInterpretedOption(moduleName, o);
  if (all.has('syn') && all.has('tcp-flags')) return unknownOption(moduleName, o, 'only one of --syn and --tcp-flags is allowed');
  if (o.name === 'syn') return { kind: 'tcpflags', invert: o.invert, mask: SYN_MASK, comp: TCP_FLAG_BITS.SYN };
  const mask = parseTcpFlags(o.args[0] ?? '');
  const comp = parseTcpFlags(o.args[1] ?? '');
  if (mask === null || comp === null) return unknownOption(moduleName, o, `not TCP flag lists (FIN,SYN,RST,PSH,ACK,URG, ALL, NONE): ${o.args.join(' ')}`);
  return { kind: 'tcpflags', invert: o.invert, mask, comp };
}

const multiport: ModuleDef = {
  options: optionMap({
    '--dports': ['dports', 1],
    '--destination-ports': ['dports', 1],
    '--sports': ['sports', 1],
    '--source-ports': ['sports', 1],
    '--ports': ['ports', 1],
  }),
  build(moduleName, options) {
    if (options.length !== 1) {
      return options.map((o) => unknownOption(moduleName, o, '-m multiport takes exactly one of --dports, --sports, --ports'));
    }
    const out: MatchSpec[] = [];
    for (const o of options) {
      const ranges = parsePortList(o.args[0] ?? '');
      if (ranges === null) {
        out.push(unknownOption(moduleName, o, `not a port list: ${o.args[0] ?? ''}`));
        continue;
      }
      const field = o.name === 'dports' ? 'dst' : o.name === 'sports' ? 'src' : 'any';
      out.push({ kind: 'multiport', field, invert: o.invert, ranges });
    }
    return out;
  },
};

function parseAddressTypes(word: string): AddressType[] | null {
  const out: AddressType[] = [];
  for (const part of word.split(',')) {
    const upper = part.toUpperCase();
    const found = ADDRESS_TYPES.find((t) => t === upper);
    if (found === undefined) return null;
    out.push(found);
  }
  return out;
}

const addrtype: ModuleDef = {
  options: optionMap({
    '--src-type': ['src-type', 1],
    '--dst-type': ['dst-type', 1],
    '--limit-iface-in': ['limit-iface-in', 0],
    '--limit-iface-out': ['limit-iface-out', 0],
  }),
  build(moduleName, options) {
    const { unique, errors } = splitDuplicates(moduleName, options);
    if (errors.length > 0) return errors;
    let src: AddressTypeTest | null = null;
    let dst: AddressTypeTest | null = null;
    let limitIface: 'in' | 'out' | null = null;
    for (const o of unique.values()) {
      if (o.name === 'limit-iface-in' || o.name === 'limit-iface-out') {
        if (limitIface !== null || o.invert) return [unknownOption(moduleName, o, 'conflicting --limit-iface options')];
        limitIface = o.name === 'limit-iface-in' ? 'in' : 'out';
        continue;
      }
      const types = parseAddressTypes(o.args[0] ?? '');
      if (types === null) return [unknownOption(moduleName, o, `unknown address type in ${o.args[0] ?? ''}`)];
      if (o.name === 'src-type') src = { invert: o.invert, types };
      else dst = { invert: o.invert, types };
    }
    return [{ kind: 'addrtype', src, dst, limitIface }];
  },
};

const mark: ModuleDef = {
  options: optionMap({ '--mark': ['mark', 1] }),
  build(moduleName, options) {
    const { unique, errors } = splitDuplicates(moduleName, options);
    const out: MatchSpec[] = [...errors];
    for (const o of unique.values()) {
      const parsed = parseMarkWord(o.args[0] ?? '');
      if (parsed === null) out.push(unknownOption(moduleName, o, `not a mark value[/mask]: ${o.args[0] ?? ''}`));
      else out.push({ kind: 'mark', invert: o.invert, value: parsed.value, mask: parsed.mask });
    }
    return out;
  },
};

function parseStates(word: string, allowed: readonly ConntrackState[]): ConntrackState[] | null {
  const out: ConntrackState[] = [];
  for (const part of word.split(',')) {
    const found = allowed.find((s) => s === part.toUpperCase());
    if (found === undefined) return null;
    out.push(found);
  }
  return out;
}

const conntrack: ModuleDef = {
  options: optionMap({
    '--ctstate': ['ctstate', 1],
    '--ctproto': ['ctproto', 1],
    '--ctorigsrc': ['ctorigsrc', 1],
    '--ctorigdst': ['ctorigdst', 1],
    '--ctreplsrc': ['ctreplsrc', 1],
    '--ctrepldst': ['ctrepldst', 1],
    '--ctorigsrcport': ['ctorigsrcport', 1],
    '--ctorigdstport': ['ctorigdstport', 1],
    '--ctreplsrcport': ['ctreplsrcport', 1],
    '--ctrepldstport': ['ctrepldstport', 1],
    '--ctstatus': ['ctstatus', 1],
    '--ctexpire': ['ctexpire', 1],
    '--ctdir': ['ctdir', 1],
  }),
  build(moduleName, options) {
    const { unique, errors } = splitDuplicates(moduleName, options);
    const out: MatchSpec[] = [...errors];
    for (const o of unique.values()) {
      if (o.name !== 'ctstate') {
        out.push(unknownOption(moduleName, o, `-m conntrack --${o.name} is not interpreted`));
        continue;
      }
      const states = parseStates(o.args[0] ?? '', CONNTRACK_STATES);
      if (states === null) out.push(unknownOption(moduleName, o, `unknown conntrack state in ${o.args[0] ?? ''}`));
      else out.push({ kind: 'ctstate', module: 'conntrack', invert: o.invert, states });
    }
    return out;
  },
};

const state: ModuleDef = {
  options: optionMap({ '--state': ['state', 1] }),
  build(moduleName, options) {
    const { unique, errors } = splitDuplicates(moduleName, options);
    const out: MatchSpec[] = [...errors];
    for (const o of unique.values()) {
      const states = parseStates(o.args[0] ?? '', ['INVALID', 'NEW', 'ESTABLISHED', 'RELATED', 'UNTRACKED']);
      if (states === null) out.push(unknownOption(moduleName, o, `unknown state in ${o.args[0] ?? ''}`));
      else out.push({ kind: 'ctstate', module: 'state', invert: o.invert, states });
    }
    return out;
  },
};

const comment: ModuleDef = {
  options: optionMap({ '--comment': ['comment', 1] }),
  build(moduleName, options) {
    const { unique, errors } = splitDuplicates(moduleName, options);
    const out: MatchSpec[] = [...errors];
    for (const o of unique.values()) {
      if (o.invert) out.push(unknownOption(moduleName, o, 'a comment cannot be negated'));
      else out.push({ kind: 'comment', text: o.args[0] ?? '' });
    }
    return out;
  },
};

const statistic: ModuleDef = {
  options: optionMap({
    '--mode': ['mode', 1],
    '--probability': ['probability', 1],
    '--every': ['every', 1],
    '--packet': ['packet', 1],
  }),
  build(moduleName, options) {
    const { unique, errors } = splitDuplicates(moduleName, options);
    if (errors.length > 0) return errors;
    const all = (reason: string): MatchSpec[] => [
      { kind: 'unknown', module: moduleName, words: options.flatMap((o) => o.words), reason },
    ];
    const mode = unique.get('mode');
    const invert = options.some((o) => o.invert && o.name !== 'mode');
    if (mode?.args[0] === 'random') {
      const p = unique.get('probability');
      if (p === undefined || unique.size !== 2) return all('--mode random needs --probability and nothing else');
      const probability = parseProbability(p.args[0] ?? '');
      if (probability === null) return all(`not a probability: ${p.args[0] ?? ''}`);
      return [{ kind: 'random', invert, probability, written: p.args[0] ?? '' }];
    }
    if (mode?.args[0] === 'nth') {
      const every = parseNonNegativeInt(unique.get('every')?.args[0] ?? '');
      const packetWord = unique.get('packet')?.args[0];
      const packet = packetWord === undefined ? 0 : parseNonNegativeInt(packetWord);
      if (unique.has('probability') || every === null || every < 1 || packet === null || packet >= every) {
        return all('--mode nth needs --every n (n >= 1) and optionally --packet p (p < n)');
      }
      return [{ kind: 'nth', invert, every, packet }];
    }
    return all('-m statistic needs --mode random or --mode nth');
  },
};

const RECENT_COMMANDS: readonly RecentCommand[] = ['set', 'rcheck', 'update', 'remove'];

const recent: ModuleDef = {
  options: optionMap({
    '--name': ['name', 1],
    '--set': ['set', 0],
    '--rcheck': ['rcheck', 0],
    '--update': ['update', 0],
    '--remove': ['remove', 0],
    '--seconds': ['seconds', 1],
    '--reap': ['reap', 0],
    '--hitcount': ['hitcount', 1],
    '--rttl': ['rttl', 0],
    '--mask': ['mask', 1],
    '--rsource': ['rsource', 0],
    '--rdest': ['rdest', 0],
  }),
  build(moduleName, options) {
    const { unique, errors } = splitDuplicates(moduleName, options);
    if (errors.length > 0) return errors;
    const all = (reason: string): MatchSpec[] => [
      { kind: 'unknown', module: moduleName, words: options.flatMap((o) => o.words), reason },
    ];
    const commands = RECENT_COMMANDS.filter((c) => unique.has(c));
    const command = commands[0];
    if (command === undefined || commands.length > 1) return all('-m recent needs exactly one of --set, --rcheck, --update, --remove');
    const invert = unique.get(command)?.invert ?? false;
    const secondsWord = unique.get('seconds')?.args[0];
    const seconds = secondsWord === undefined ? null : parseNonNegativeInt(secondsWord);
    const hitWord = unique.get('hitcount')?.args[0];
    const hitcount = hitWord === undefined ? null : parseNonNegativeInt(hitWord);
    if ((secondsWord !== undefined && seconds === null) || (hitWord !== undefined && hitcount === null)) {
      return all('--seconds and --hitcount take whole numbers');
    }
    if (unique.has('reap') && seconds === null) return all('--reap needs --seconds');
    if (unique.has('rsource') && unique.has('rdest')) return all('--rsource and --rdest exclude each other');
    const maskWord = unique.get('mask')?.args[0];
    let mask: string | null = null;
    if (maskWord !== undefined) {
      const parsed = parseAddressWord(maskWord);
      if (parsed === null) return all(`not an address mask: ${maskWord}`);
      mask = parsed.slice(0, parsed.indexOf('/'));
    }
    return [
      {
        kind: 'recent',
        name: unique.get('name')?.args[0] ?? 'DEFAULT',
        command,
        invert,
        seconds,
        reap: unique.has('reap'),
        hitcount,
        rttl: unique.has('rttl'),
        mask,
        side: unique.has('rdest') ? 'dst' : 'src',
      },
    ];
  },
};

const set: ModuleDef = {
  options: optionMap({
    '--match-set': ['match-set', 2],
    '--set': ['match-set', 2],
    '--return-nomatch': ['return-nomatch', 0],
    '--update-counters': ['update-counters', 0],
    '--update-subcounters': ['update-subcounters', 0],
    '--packets-eq': ['packets-eq', 1],
    '--packets-lt': ['packets-lt', 1],
    '--packets-gt': ['packets-gt', 1],
    '--bytes-eq': ['bytes-eq', 1],
    '--bytes-lt': ['bytes-lt', 1],
    '--bytes-gt': ['bytes-gt', 1],
  }),
  build(moduleName, options) {
    const out: MatchSpec[] = [];
    for (const o of options) {
      // Counter updates change no verdict.
      if (o.name === 'update-counters' || o.name === 'update-subcounters') continue;
      if (o.name !== 'match-set') {
        out.push(unknownOption(moduleName, o, `-m set --${o.name} is not interpreted`));
        continue;
      }
      const flags = (o.args[1] ?? '').split(',');
      if (flags.length === 0 || flags.length > 6 || flags.some((f) => f !== 'src' && f !== 'dst')) {
        out.push(unknownOption(moduleName, o, `set flags must be src/dst, comma-separated: ${o.args[1] ?? ''}`));
        continue;
      }
      out.push({ kind: 'set', invert: o.invert, name: o.args[0] ?? '', flags: flags as AddressField[] });
    }
    return out;
  },
};

const physdev: ModuleDef = {
  options: optionMap({
    '--physdev-in': ['physdev-in', 1],
    '--physdev-out': ['physdev-out', 1],
    '--physdev-is-in': ['physdev-is-in', 0],
    '--physdev-is-out': ['physdev-is-out', 0],
    '--physdev-is-bridged': ['physdev-is-bridged', 0],
  }),
  build(moduleName, options) {
    const { unique, errors } = splitDuplicates(moduleName, options);
    if (errors.length > 0) return errors;
    const iface = (name: string): InterfaceTest | null => {
      const o = unique.get(name);
      return o === undefined ? null : { invert: o.invert, name: o.args[0] ?? '' };
    };
    const flag = (name: string): InvertibleFlag | null => {
      const o = unique.get(name);
      return o === undefined ? null : { invert: o.invert };
    };
    return [
      {
        kind: 'physdev',
        physdevIn: iface('physdev-in'),
        physdevOut: iface('physdev-out'),
        isIn: flag('physdev-is-in'),
        isOut: flag('physdev-is-out'),
        isBridged: flag('physdev-is-bridged'),
      },
    ];
  },
};

const nfacct: ModuleDef = {
  options: optionMap({ '--nfacct-name': ['nfacct-name', 1] }),
  build(moduleName, options) {
    const { unique, errors } = splitDuplicates(moduleName, options);
    const out: MatchSpec[] = [...errors];
    for (const o of unique.values()) {
      if (o.invert) out.push(unknownOption(moduleName, o, 'nfacct cannot be negated'));
      else out.push({ kind: 'nfacct', name: o.args[0] ?? '' });
    }
    return out;
  },
};

/** Modules whose options are known (so they bind correctly) but not evaluated. */
function notInterpreted(table: OptionTable): ModuleDef {
  return {
    options: optionMap(table),
    build(moduleName, options) {
      return [
        {
          kind: 'unknown',
          module: moduleName,
          words: ['-m', moduleName, ...options.flatMap((o) => o.words)],
          reason: `-m ${moduleName} is not interpreted`,
        },
      ];
    },
  };
}

const MODULES: ReadonlyMap<string, ModuleDef> = new Map<string, ModuleDef>([
  ['tcp', portModule({ '--tcp-flags': ['tcp-flags', 2], '--syn': ['syn', 0], '--tcp-option': ['tcp-option', 1] }, tcpOption)],
  ['udp', portModule({})],
  ['udplite', portModule({})],
  ['sctp', portModule({ '--chunk-types': ['chunk-types', 2] })],
  ['multiport', multiport],
  ['addrtype', addrtype],
  ['mark', mark],
  ['conntrack', conntrack],
  ['state', state],
  ['comment', comment],
  ['statistic', statistic],
  ['recent', recent],
  ['set', set],
  ['physdev', physdev],
  ['nfacct', nfacct],
  ['icmp', notInterpreted({ '--icmp-type': ['icmp-type', 1] })],
  ['icmp6', notInterpreted({ '--icmpv6-type': ['icmpv6-type', 1] })],
]);

export function moduleDef(name: string): ModuleDef | null {
  return MODULES.get(name) ?? null;
}

/** The module `-p NAME` loads implicitly when an option nothing else owns follows it. */
export function implicitProtocolModule(protocol: string): string | null {
  switch (protocol) {
    case 'tcp':
    case 'udp':
    case 'sctp':
    case 'udplite':
    case 'icmp':
      return protocol;
    case 'icmpv6':
    case 'ipv6-icmp':
      return 'icmp6';
    default:
      return null;
  }
}
