/**
 * The `-j` targets the interpreter understands, their options, and how the collected options
 * become a typed TargetSpec. A target name that is not an extension target is a chain jump
 * (the lowering step checks that chain exists); one followed by options it cannot own is unknown.
 */
import { optionMap, type CollectedOption, type OptionDef } from './interpret-modules.js';
import type { MarkOperation, NatRange, TargetSpec } from './interpret-types.js';
import { parseMarkWord, parseNatRange, parseToPorts, parseUint32 } from './interpret-values.js';

export interface TargetDef {
  readonly options: ReadonlyMap<string, OptionDef>;
  build(options: readonly CollectedOption[]): TargetSpec;
}

function unknownTarget(target: string, options: readonly CollectedOption[], reason: string): TargetSpec {
  return { kind: 'unknown', target, words: ['-j', target, ...options.flatMap((o) => o.words)], reason };
}

/** Shared checks: no `!`, no repeated option (except those listed as repeatable). */
function checkOptions(target: string, options: readonly CollectedOption[], repeatable: readonly string[] = []): TargetSpec | null {
  const seen = new Set<string>();
  for (const o of options) {
    if (o.invert) return unknownTarget(target, options, `${target} options cannot be negated`);
    if (seen.has(o.name) && !repeatable.includes(o.name)) return unknownTarget(target, options, `--${o.name} given twice`);
    seen.add(o.name);
  }
  return null;
}

function verdict(kind: 'accept' | 'drop' | 'return', name: string): TargetDef {
  return {
    options: new Map(),
    build(options) {
      return options.length > 0 ? unknownTarget(name, options, `${name} takes no options`) : { kind };
    },
  };
}

function natRanges(target: string, options: readonly CollectedOption[], optionName: string): NatRange[] | TargetSpec {
  const ranges: NatRange[] = [];
  for (const o of options) {
    if (o.name !== optionName) continue;
    const range = parseNatRange(o.args[0] ?? '');
    if (range === null) return unknownTarget(target, options, `not an address[:port] range: ${o.args[0] ?? ''}`);
    ranges.push(range);
  }
  return ranges;
}

const reject: TargetDef = {
  options: optionMap({ '--reject-with': ['reject-with', 1] }),
  build(options) {
    const bad = checkOptions('REJECT', options);
    if (bad !== null) return bad;
    return { kind: 'reject', rejectWith: options[0]?.args[0] ?? null };
  },
};

const dnat: TargetDef = {
  options: optionMap({ '--to-destination': ['to-destination', 1], '--random': ['random', 0], '--persistent': ['persistent', 0] }),
  build(options) {
    const bad = checkOptions('DNAT', options, ['to-destination']);
    if (bad !== null) return bad;
    const to = natRanges('DNAT', options, 'to-destination');
    if (!Array.isArray(to)) return to;
    if (to.length === 0) return unknownTarget('DNAT', options, 'DNAT needs --to-destination');
    const has = (n: string): boolean => options.some((o) => o.name === n);
    return { kind: 'dnat', to, random: has('random'), persistent: has('persistent') };
  },
};

const snat: TargetDef = {
  options: optionMap({
    '--to-source': ['to-source', 1],
    '--random': ['random', 0],
    '--random-fully': ['random-fully', 0],
    '--persistent': ['persistent', 0],
  }),
  build(options) {
    const bad = checkOptions('SNAT', options, ['to-source']);
    if (bad !== null) return bad;
    const to = natRanges('SNAT', options, 'to-source');
    if (!Array.isArray(to)) return to;
    if (to.length === 0) return unknownTarget('SNAT', options, 'SNAT needs --to-source');
    const has = (n: string): boolean => options.some((o) => o.name === n);
    return { kind: 'snat', to, random: has('random'), randomFully: has('random-fully'), persistent: has('persistent') };
  },
};

function toPortsTarget(name: 'MASQUERADE' | 'REDIRECT'): TargetDef {
  return {
    options: optionMap({ '--to-ports': ['to-ports', 1], '--random': ['random', 0], '--random-fully': ['random-fully', 0] }),
    build(options) {
      const bad = checkOptions(name, options);
      if (bad !== null) return bad;
      const portsWord = options.find((o) => o.name === 'to-ports')?.args[0];
      const toPorts = portsWord === undefined ? null : parseToPorts(portsWord);
      if (portsWord !== undefined && toPorts === null) return unknownTarget(name, options, `not a port range: ${portsWord}`);
      const has = (n: string): boolean => options.some((o) => o.name === n);
      if (name === 'REDIRECT') {
        if (has('random-fully')) return unknownTarget(name, options, 'REDIRECT has no --random-fully');
        return { kind: 'redirect', toPorts, random: has('random') };
      }
      return { kind: 'masquerade', toPorts, random: has('random'), randomFully: has('random-fully') };
    },
  };
}

const MARK_OPERATIONS: readonly MarkOperation[] = ['set-xmark', 'set-mark', 'or-mark', 'xor-mark', 'and-mark'];

const markTarget: TargetDef = {
  options: optionMap(Object.fromEntries(MARK_OPERATIONS.map((op) => [`--${op}`, [op, 1] as const]))),
  build(options) {
    const bad = checkOptions('MARK', options);
    if (bad !== null) return bad;
    const [o, ...more] = options;
    if (o === undefined || more.length > 0) return unknownTarget('MARK', options, 'MARK needs exactly one operation');
    const operation = MARK_OPERATIONS.find((op) => op === o.name);
    const word = o.args[0] ?? '';
    if (operation === undefined) return unknownTarget('MARK', options, `unknown MARK option --${o.name}`);
    // Every operation as the kernel's (value, mask): new = (old & ~mask) ^ value.
    switch (operation) {
      case 'set-xmark':
      case 'set-mark': {
        const parsed = parseMarkWord(word);
        if (parsed === null) return unknownTarget('MARK', options, `not a mark value[/mask]: ${word}`);
        const mask = operation === 'set-mark' ? (parsed.mask | parsed.value) >>> 0 : parsed.mask;
        return { kind: 'mark', operation, value: parsed.value, mask };
      }
      case 'or-mark':
      case 'xor-mark':
      case 'and-mark': {
        const value = parseUint32(word);
        if (value === null) return unknownTarget('MARK', options, `not a mark value: ${word}`);
        if (operation === 'or-mark') return { kind: 'mark', operation, value, mask: value };
        if (operation === 'xor-mark') return { kind: 'mark', operation, value, mask: 0 };
        return { kind: 'mark', operation, value: 0, mask: ~value >>> 0 };
      }
    }
  },
};

const log: TargetDef = {
  options: optionMap({
    '--log-prefix': ['log-prefix', 1],
    '--log-level': ['log-level', 1],
    '--log-tcp-sequence': ['log-tcp-sequence', 0],
    '--log-tcp-options': ['log-tcp-options', 0],
    '--log-ip-options': ['log-ip-options', 0],
    '--log-uid': ['log-uid', 0],
    '--log-macdecode': ['log-macdecode', 0],
  }),
  build(options) {
    const bad = checkOptions('LOG', options);
    if (bad !== null) return bad;
    return {
      kind: 'log',
      prefix: options.find((o) => o.name === 'log-prefix')?.args[0] ?? null,
      level: options.find((o) => o.name === 'log-level')?.args[0] ?? null,
    };
  },
};

const TARGETS: ReadonlyMap<string, TargetDef> = new Map<string, TargetDef>([
  ['ACCEPT', verdict('accept', 'ACCEPT')],
  ['DROP', verdict('drop', 'DROP')],
  ['RETURN', verdict('return', 'RETURN')],
  ['REJECT', reject],
  ['DNAT', dnat],
  ['SNAT', snat],
  ['MASQUERADE', toPortsTarget('MASQUERADE')],
  ['REDIRECT', toPortsTarget('REDIRECT')],
  ['MARK', markTarget],
  ['LOG', log],
]);

export function targetDef(name: string): TargetDef | null {
  return TARGETS.get(name) ?? null;
}

export { unknownTarget };
