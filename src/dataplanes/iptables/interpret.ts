/**
 * interpretRule: the typed meaning of a rule's words. Options bind the way iptables binds them:
 * each `-m` (and `-j`) loads a module whose options join the option table, and an option belongs
 * to the most recently loaded module that owns it (`-m tcp -p tcp -d X --dport 80`: `--dport` is
 * tcp's). An option nothing owns loads the `-p` protocol's module implicitly, as iptables does.
 * Nothing is dropped and nothing throws: what is not understood becomes an `unknown` element.
 */
import type { Rule } from './model.js';
import {
  implicitProtocolModule,
  moduleDef,
  type CollectedOption,
  type ModuleDef,
  type OptionDef,
} from './interpret-modules.js';
import { targetDef, unknownTarget, type TargetDef } from './interpret-targets.js';
import type { MatchSpec, RuleSpec, TargetSpec } from './interpret-types.js';
import { parseAddressWord, parseNonNegativeInt } from './interpret-values.js';

export type * from './interpret-types.js';

type GenericOption = 'source' | 'destination' | 'protocol' | 'in' | 'out' | 'fragment' | 'counters' | 'match' | 'jump' | 'goto';

const GENERIC: ReadonlyMap<string, readonly [GenericOption, number]> = new Map([
  ['-s', ['source', 1]],
  ['--source', ['source', 1]],
  ['--src', ['source', 1]],
  ['-d', ['destination', 1]],
  ['--destination', ['destination', 1]],
  ['--dst', ['destination', 1]],
  ['-p', ['protocol', 1]],
  ['--protocol', ['protocol', 1]],
  ['-i', ['in', 1]],
  ['--in-interface', ['in', 1]],
  ['-o', ['out', 1]],
  ['--out-interface', ['out', 1]],
  ['-f', ['fragment', 0]],
  ['--fragment', ['fragment', 0]],
  ['-c', ['counters', 2]],
  ['--set-counters', ['counters', 2]],
  ['-m', ['match', 1]],
  ['--match', ['match', 1]],
  ['-j', ['jump', 1]],
  ['--jump', ['jump', 1]],
  ['-g', ['goto', 1]],
  ['--goto', ['goto', 1]],
]);

/** Modules that mean nothing without options (iptables refuses them bare). */
const BARE_MODULES_ALLOWED = new Set(['tcp', 'udp', 'sctp', 'udplite']);

const PROTOCOL_NUMBERS: ReadonlyMap<string, string> = new Map([
  ['0', 'all'],
  ['1', 'icmp'],
  ['6', 'tcp'],
  ['17', 'udp'],
  ['58', 'icmpv6'],
  ['132', 'sctp'],
  ['136', 'udplite'],
]);

interface MatchInstance {
  readonly role: 'match';
  readonly name: string;
  readonly def: ModuleDef | null;
  readonly options: CollectedOption[];
}

interface TargetInstance {
  readonly role: 'target';
  readonly name: string;
  readonly def: TargetDef | null;
  readonly goto: boolean;
  readonly options: CollectedOption[];
}

type Instance = MatchInstance | TargetInstance;

/** A slot of the output, in written order: built elements, or a module built at the end. */
type Slot = { readonly built: MatchSpec } | { readonly instance: MatchInstance };

function isOptionWord(word: string): boolean {
  return word.length > 1 && word.startsWith('-');
}

function ownedOption(instance: Instance, word: string): OptionDef | null | undefined {
  // undefined: not owned; null: claimed by an unknown module or target (arity unknown).
  if (instance.def === null) return null;
  return instance.def.options.get(word);
}

/** The most recently loaded module (or target) that owns an option. */
function findOwner(instances: readonly Instance[], word: string): { owner: Instance; def: OptionDef | null } | null {
  for (let k = instances.length - 1; k >= 0; k--) {
    const candidate = instances[k];
    if (candidate === undefined) continue;
    const owned = ownedOption(candidate, word);
    if (owned !== undefined) return { owner: candidate, def: owned };
  }
  return null;
}

export function interpretRule(rule: Rule): RuleSpec {
  return interpretWords(rule.words);
}

export function interpretWords(words: readonly string[]): RuleSpec {
  const slots: Slot[] = [];
  const instances: Instance[] = [];
  let target: TargetInstance | null = null;
  let counters: readonly [number, number] | null = null;
  let protocol: string | null = null;
  const implicitLoaded = new Set<string>();
  let invert = false;
  let invertWord = -1;
  let i = 0;

  const unknown = (module: string, from: number, to: number, reason: string): void => {
    slots.push({ built: { kind: 'unknown', module, words: words.slice(from, to), reason } });
  };
  /** Values of an option: `arity` words, or with the old `--opt ! value` form an inverting `!` first. */
  const takeArgs = (at: number, arity: number): { args: string[]; inverted: boolean; next: number } | null => {
    let start = at + 1;
    let inverted = false;
    if (arity > 0 && words[start] === '!') {
      inverted = true;
      start++;
    }
    const args = words.slice(start, start + arity);
    if (args.length < arity) return null;
    return { args: [...args], inverted, next: start + arity };
  };

  while (i < words.length) {
    const word = words[i] ?? '';
    const from = invert ? invertWord : i;
    if (word === '!') {
      if (invert) unknown('ip', invertWord, i, 'a doubled "!"');
      invert = true;
      invertWord = i;
      i++;
      continue;
    }
    const generic = GENERIC.get(word);
    if (generic !== undefined) {
      const [option, arity] = generic;
      const taken = takeArgs(i, arity);
      if (taken === null) {
        unknown('ip', from, words.length, `${word} needs ${arity} value(s)`);
        break;
      }
      const negated = invert || taken.inverted;
      const value = taken.args[0] ?? '';
      const here = (): readonly string[] => words.slice(from, taken.next);
      switch (option) {
        case 'source':
        case 'destination': {
          const cidrs = value.split(',').map(parseAddressWord);
          const field = option === 'source' ? 'src' : 'dst';
          if (cidrs.some((c) => c === null)) unknown('ip', from, taken.next, `not an address or CIDR: ${value}`);
          else slots.push({ built: { kind: 'address', field, invert: negated, cidrs: cidrs as string[] } });
          break;
        }
        case 'protocol': {
          const lower = value.toLowerCase();
          const name = PROTOCOL_NUMBERS.get(lower) ?? lower;
          if (!/^[a-z0-9-]+$/.test(name)) unknown('ip', from, taken.next, `not a protocol: ${value}`);
          else {
            protocol = name;
            slots.push({ built: { kind: 'protocol', invert: negated, protocol: name } });
          }
          break;
        }
        case 'in':
        case 'out':
          if (value === '' || value.length > 15) unknown('ip', from, taken.next, `not an interface name: ${value}`);
          else slots.push({ built: { kind: 'interface', field: option, invert: negated, name: value } });
          break;
        case 'fragment':
          slots.push({ built: { kind: 'fragment', invert: negated } });
          break;
        case 'counters': {
          const packets = parseNonNegativeInt(value);
          const bytes = parseNonNegativeInt(taken.args[1] ?? '');
          if (negated || packets === null || bytes === null) unknown('ip', from, taken.next, 'invalid -c counters');
          else counters = [packets, bytes];
          break;
        }
        case 'match': {
          if (negated) {
            unknown('ip', from, taken.next, '"!" cannot negate -m');
            break;
          }
          const instance: MatchInstance = { role: 'match', name: value, def: moduleDef(value), options: [] };
          instances.push(instance);
          slots.push({ instance });
          break;
        }
        case 'jump':
        case 'goto': {
          if (negated || target !== null) {
            slots.push({ built: { kind: 'unknown', module: 'ip', words: here(), reason: target !== null ? 'a second target' : '"!" cannot negate a target' } });
            break;
          }
          target = { role: 'target', name: value, def: targetDef(value), goto: option === 'goto', options: [] };
          instances.push(target);
          break;
        }
      }
      invert = false;
      i = taken.next;
      continue;
    }

    if (!isOptionWord(word)) {
      unknown('ip', from, i + 1, `unexpected word "${word}"`);
      invert = false;
      i++;
      continue;
    }

    let found = findOwner(instances, word);
    if (found === null && protocol !== null) {
      const implicit = implicitProtocolModule(protocol);
      if (implicit !== null && !implicitLoaded.has(implicit)) {
        implicitLoaded.add(implicit);
        const instance: MatchInstance = { role: 'match', name: implicit, def: moduleDef(implicit), options: [] };
        instances.push(instance);
        slots.push({ instance });
        found = findOwner(instances, word);
      }
    }
    if (found === null) {
      let end = i + 1;
      while (end < words.length && !isOptionWord(words[end] ?? '') && words[end] !== '!') end++;
      unknown('ip', from, end, `option ${word} belongs to no loaded module`);
      invert = false;
      i = end;
      continue;
    }
    const { owner: boundTo, def: optionDef } = found;
    let args: string[];
    let next: number;
    let inverted = false;
    if (optionDef === null) {
      next = i + 1;
      while (next < words.length && !isOptionWord(words[next] ?? '') && words[next] !== '!') next++;
      args = words.slice(i + 1, next);
    } else {
      const taken = takeArgs(i, optionDef.arity);
      if (taken === null) {
        unknown(boundTo.name, from, words.length, `${word} needs ${optionDef.arity} value(s)`);
        break;
      }
      ({ args, next, inverted } = taken);
    }
    boundTo.options.push({
      name: optionDef?.canonical ?? word.replace(/^-+/, ''),
      args,
      invert: invert || inverted,
      words: words.slice(from, next),
    });
    invert = false;
    i = next;
  }
  if (invert) unknown('ip', invertWord, words.length, 'a "!" with nothing after it');

  const matches: MatchSpec[] = [];
  for (const slot of slots) {
    if ('built' in slot) {
      matches.push(slot.built);
      continue;
    }
    matches.push(...buildMatch(slot.instance));
  }
  return { matches, target: buildTarget(target), counters };
}

function buildMatch(instance: MatchInstance): MatchSpec[] {
  const optionWords = instance.options.flatMap((o) => o.words);
  if (instance.def === null) {
    return [
      {
        kind: 'unknown',
        module: instance.name,
        words: ['-m', instance.name, ...optionWords],
        reason: `unknown match module "${instance.name}"`,
      },
    ];
  }
  if (instance.options.length === 0 && !BARE_MODULES_ALLOWED.has(instance.name)) {
    return [{ kind: 'unknown', module: instance.name, words: ['-m', instance.name], reason: `-m ${instance.name} without options` }];
  }
  return instance.def.build(instance.name, instance.options);
}

function buildTarget(target: TargetInstance | null): TargetSpec {
  if (target === null) return { kind: 'none' };
  if (target.def === null) {
    if (target.options.length > 0) {
      return unknownTarget(target.name, target.options, `unknown target "${target.name}" with options`);
    }
    return { kind: 'jump', chain: target.name, goto: target.goto };
  }
  if (target.goto) return unknownTarget(target.name, target.options, `-g needs a chain, not the ${target.name} target`);
  return target.def.build(target.options);
}
