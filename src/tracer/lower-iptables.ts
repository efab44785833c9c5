/**
 * Lowering of a parsed iptables dump or restore input into the tracer's IR.
 *
 * Table sections are applied in order the way `iptables-restore --noflush` applies them (a
 * `:CHAIN` line flushes a user chain, `-A` appends, `-X` deletes), so a restore input with
 * several steps lowers to the state after the last one. Where the built-in chains of nat or
 * filter carry no jump into a KUBE-* chain (restore input, a partial dump), kube-proxy's
 * standard jumps (reference §4.2) are assumed, and a note says so.
 */
import { parseCIDR, type ParsedCIDR } from '../core/net/ip.js';
import { interpretRule } from '../dataplanes/iptables/interpret.js';
import type { MatchSpec, TargetSpec } from '../dataplanes/iptables/interpret-types.js';
import { kernelProbability } from '../dataplanes/iptables/interpret-values.js';
import { installedOrder, jumpRules } from '../dataplanes/iptables/jumps.js';
import type { Rule, Ruleset, TableName } from '../dataplanes/iptables/model.js';
import { BUILTIN_CHAINS, isBuiltinChain } from '../dataplanes/iptables/parse.js';
import { quoteWord } from '../dataplanes/iptables/serialize.js';
import type { IrAction, IrChain, IrPredicate, IrProgram, IrRule, IrTable } from './ir.js';

interface ChainState {
  readonly builtin: boolean;
  policy: 'ACCEPT' | 'DROP' | null;
  rules: Rule[];
}

type TableState = Map<string, ChainState>;

function newTable(name: TableName): TableState {
  const t: TableState = new Map();
  for (const c of BUILTIN_CHAINS[name]) t.set(c, { builtin: true, policy: null, rules: [] });
  return t;
}

/** Applies every table section in order, as iptables-restore --noflush would. */
function applySections(ruleset: Ruleset): Map<TableName, TableState> {
  const tables = new Map<TableName, TableState>();
  for (const section of ruleset.tables) {
    let table = tables.get(section.name);
    if (table === undefined) {
      table = newTable(section.name);
      tables.set(section.name, table);
    }
    for (const decl of section.chains) {
      const existing = table.get(decl.name);
      if (existing?.builtin === true) {
        if (decl.policy === 'ACCEPT' || decl.policy === 'DROP') existing.policy = decl.policy;
      } else {
        table.set(decl.name, { builtin: false, policy: null, rules: [] });
      }
    }
    for (const rule of section.rules) {
      let chain = table.get(rule.chain);
      if (chain === undefined) {
        chain = { builtin: isBuiltinChain(section.name, rule.chain), policy: null, rules: [] };
        table.set(rule.chain, chain);
      }
      chain.rules.push(rule);
    }
    for (const name of section.deletedChains) {
      if (table.get(name)?.builtin !== true) table.delete(name);
    }
  }
  return tables;
}

function jumpsIntoKube(table: TableState): boolean {
  for (const chain of table.values()) {
    if (!chain.builtin) continue;
    for (const rule of chain.rules) {
      const target = interpretRule(rule).target;
      if (target.kind === 'jump' && target.chain.startsWith('KUBE-')) return true;
    }
  }
  return false;
}

function looksCurrent(tables: Map<TableName, TableState>): boolean {
  if (tables.get('filter')?.has('KUBE-PROXY-FIREWALL') === true) return true;
  for (const name of tables.get('nat')?.keys() ?? []) {
    if (name.startsWith('KUBE-EXT-') || name.startsWith('KUBE-SVL-')) return true;
  }
  return false;
}

/** Adds kube-proxy's jumps from the built-in chains where a table has none; returns notes, and collects the added rules in `assumed`. */
function assumeStandardJumps(tables: Map<TableName, TableState>, assumed: Set<Rule>): string[] {
  const notes: string[] = [];
  const format = looksCurrent(tables) ? 'current' : 'legacy';
  const rules = installedOrder(jumpRules(format, { legacyKubeletFirewall: format === 'legacy' }));
  for (const name of ['nat', 'filter'] as const) {
    const table = tables.get(name);
    if (table === undefined || jumpsIntoKube(table)) continue;
    const added: string[] = [];
    const inserted = new Map<string, Rule[]>();
    for (const jump of rules) {
      if (jump.table !== name || !table.has(jump.target)) continue;
      const list = inserted.get(jump.chain) ?? [];
      const rule: Rule = { chain: jump.chain, words: [...jump.words] };
      assumed.add(rule);
      list.push(rule);
      inserted.set(jump.chain, list);
      added.push(`${jump.chain} → ${jump.target}`);
    }
    if (added.length === 0) continue;
    for (const [chainName, list] of inserted) {
      const chain = table.get(chainName);
      if (chain !== undefined) chain.rules = [...list, ...chain.rules];
    }
    notes.push(
      `${name}: the built-in chains have no jumps into KUBE-* chains (restore input or a partial dump); ` +
        `assumed kube-proxy's standard jumps (${format} format): ${added.join(', ')}`,
    );
  }
  return notes;
}

function cidrs(list: readonly string[]): ParsedCIDR[] {
  return list.flatMap((c) => {
    const parsed = parseCIDR(c);
    return parsed === null ? [] : [parsed];
  });
}

function unsupportedMatch(m: Extract<MatchSpec, { kind: 'unknown' }>): IrPredicate {
  const where = m.module === 'ip' ? '' : `-m ${m.module}: `;
  return { kind: 'unsupported', description: `${where}${m.reason} (${m.words.map(quoteWord).join(' ')})` };
}

function lowerMatch(m: MatchSpec): IrPredicate[] {
  switch (m.kind) {
    case 'address':
      return [{ kind: 'address', field: m.field, invert: m.invert, cidrs: cidrs(m.cidrs) }];
    case 'protocol':
      return [{ kind: 'protocol', invert: m.invert, protocol: m.protocol }];
    case 'interface':
      return [{ kind: 'interface', field: m.field, invert: m.invert, name: m.name }];
    case 'fragment':
      return [{ kind: 'fragment', invert: m.invert }];
    case 'port':
      return [{ kind: 'port', protocol: m.module, field: m.field, invert: m.invert, ranges: [m.range] }];
    case 'tcpflags':
      return [{ kind: 'tcpflags', invert: m.invert, mask: m.mask, comp: m.comp }];
    case 'multiport':
      return [{ kind: 'port', protocol: null, field: m.field, invert: m.invert, ranges: m.ranges }];
    case 'addrtype': {
      const out: IrPredicate[] = [];
      if (m.src !== null) out.push({ kind: 'addrtype', field: 'src', invert: m.src.invert, types: m.src.types, limitIface: m.limitIface });
      if (m.dst !== null) out.push({ kind: 'addrtype', field: 'dst', invert: m.dst.invert, types: m.dst.types, limitIface: m.limitIface });
      return out;
    }
    case 'mark':
      return [{ kind: 'mark', invert: m.invert, value: m.value, mask: m.mask }];
    case 'ctstate':
      return [{ kind: 'ctstate', invert: m.invert, states: m.states }];
    case 'comment':
    case 'nfacct':
      return [];
    case 'random':
      return [{ kind: 'random', invert: m.invert, numerator: kernelProbability(m.probability), written: m.written }];
    case 'nth':
      return [{ kind: 'nth', invert: m.invert, every: m.every, packet: m.packet }];
    case 'recent':
      return [
        { kind: 'recent', name: m.name, command: m.command, invert: m.invert, seconds: m.seconds, hitcount: m.hitcount, mask: m.mask, side: m.side },
      ];
    case 'set':
      return [{ kind: 'set', invert: m.invert, name: m.name, flags: m.flags }];
    case 'physdev': {
      const out: IrPredicate[] = [];
      if (m.physdevIn !== null) out.push({ kind: 'physdev', test: 'in', invert: m.physdevIn.invert, name: m.physdevIn.name });
      if (m.physdevOut !== null) out.push({ kind: 'physdev', test: 'out', invert: m.physdevOut.invert, name: m.physdevOut.name });
      if (m.isIn !== null) out.push({ kind: 'physdev', test: 'is-in', invert: m.isIn.invert, name: null });
      if (m.isOut !== null) out.push({ kind: 'physdev', test: 'is-out', invert: m.isOut.invert, name: null });
      if (m.isBridged !== null) out.push({ kind: 'physdev', test: 'is-bridged', invert: m.isBridged.invert, name: null });
      return out;
    }
    case 'unknown':
      return [unsupportedMatch(m)];
  }
}

function isHeaderMatch(m: MatchSpec): boolean {
  return m.kind === 'address' || m.kind === 'protocol' || m.kind === 'interface' || m.kind === 'fragment' || (m.kind === 'unknown' && m.module === 'ip');
}

function lowerTarget(t: TargetSpec, table: TableState, tableName: TableName): IrAction {
  switch (t.kind) {
    case 'none':
      return { kind: 'continue' };
    case 'jump':
      if (!table.has(t.chain) || table.get(t.chain)?.builtin === true) {
        return { kind: 'unsupported', description: `-j ${t.chain}: no such chain in table ${tableName}, and not a target kproxy knows` };
      }
      return t.goto ? { kind: 'goto', chain: t.chain } : { kind: 'jump', chain: t.chain };
    case 'accept':
    case 'drop':
    case 'return':
      return { kind: t.kind };
    case 'reject':
      return { kind: 'reject', rejectWith: t.rejectWith };
    case 'dnat': {
      const [to, ...more] = t.to;
      if (to === undefined || more.length > 0 || to.addressFrom !== to.addressTo || (to.ports !== null && to.ports.from !== to.ports.to)) {
        return { kind: 'unsupported', description: `DNAT to a range (${t.to.map((r) => r.written).join(' ')}) is not traced` };
      }
      return { kind: 'dnat', address: to.addressFrom, port: to.ports?.from ?? null };
    }
    case 'snat':
      return { kind: 'snat', masquerade: false, address: t.to[0]?.addressFrom ?? null };
    case 'masquerade':
      return { kind: 'snat', masquerade: true, address: null };
    case 'redirect':
      if (t.toPorts !== null && t.toPorts.from !== t.toPorts.to) {
        return { kind: 'unsupported', description: 'REDIRECT to a port range is not traced' };
      }
      return { kind: 'redirect', port: t.toPorts?.from ?? null };
    case 'mark':
      return { kind: 'mark', value: t.value, mask: t.mask };
    case 'log':
      return { kind: 'log', prefix: t.prefix };
    case 'unknown':
      return { kind: 'unsupported', description: `-j ${t.target}: ${t.reason} (${t.words.map(quoteWord).join(' ')})` };
  }
}

/**
 * The rule as the input wrote it (so that it can be found in the dump with grep: quoting and
 * order as there, counters dropped); rebuilt from its words when the input's text is not at hand.
 */
function ruleText(rule: Rule, sourceLines: readonly string[] | undefined): string {
  const written = rule.line === undefined ? undefined : sourceLines?.[rule.line - 1]?.trim().replace(/^\[\d+:\d+\]\s+/, '');
  if (written !== undefined && /^-[AI]\s/.test(written)) return written;
  return [`-A ${quoteWord(rule.chain)}`, ...rule.words.map(quoteWord)].join(' ');
}

function lowerRule(rule: Rule, position: number, table: TableState, tableName: TableName, assumed: boolean, sourceLines?: readonly string[]): IrRule {
  const spec = interpretRule(rule);
  const header = spec.matches.filter(isHeaderMatch);
  const modules = spec.matches.filter((m) => !isHeaderMatch(m));
  const comment = spec.matches.find((m) => m.kind === 'comment');
  return {
    position,
    line: rule.line ?? null,
    assumed,
    text: ruleText(rule, sourceLines),
    comment: comment?.kind === 'comment' ? comment.text : null,
    predicates: [...header, ...modules].flatMap(lowerMatch),
    action: lowerTarget(spec.target, table, tableName),
  };
}

export interface LowerOptions {
  /** Add kube-proxy's jumps where the built-in chains have none (default true). */
  readonly assumeJumps?: boolean;
  /** The input's lines (what the rules' line numbers count): rules are shown as written there. */
  readonly sourceLines?: readonly string[];
}

export function lowerIptables(ruleset: Ruleset, options: LowerOptions = {}): IrProgram {
  const states = applySections(ruleset);
  const assumed = new Set<Rule>();
  const notes = options.assumeJumps === false ? [] : assumeStandardJumps(states, assumed);
  const tables = new Map<TableName, IrTable>();
  for (const [tableName, state] of states) {
    const chains = new Map<string, IrChain>();
    for (const [chainName, chain] of state) {
      chains.set(chainName, {
        name: chainName,
        builtin: chain.builtin,
        policy: chain.policy,
        rules: chain.rules.map((r, i) => lowerRule(r, i + 1, state, tableName, assumed.has(r), options.sourceLines)),
      });
    }
    tables.set(tableName, { name: tableName, chains });
  }
  return { tables, notes };
}
