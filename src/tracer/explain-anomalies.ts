/**
 * Structural anomalies of a ruleset, found without tracing: jumps to chains that do not exist;
 * chains no packet can reach from the built-in chains (nothing jumps to them, or only chains
 * that are themselves unreachable do), endpoint chains no service uses; empty per-service chains
 * (left behind, or waiting for deletion); and rules that can never be reached because an earlier
 * rule of the chain takes every packet they match with a final verdict (the same conditions, or
 * weaker ones: a wider CIDR or port range, fewer conditions).
 */
import { cidrWithin } from '../core/net/ip.js';
import type { TableName } from '../dataplanes/iptables/model.js';
import type { Anomaly } from './explain-types.js';
import type { IrAction, IrPredicate, IrRule, IrProgram, IrTable } from './ir.js';

const SERVICE_CHAIN = /^KUBE-(SVC|SVL|EXT|FW|SEP|XLB)-/;

/** Chains kubelet or kube-proxy create whether or not a rule uses them. */
function alwaysPresent(chain: string): boolean {
  return chain.includes('CANARY') || chain === 'KUBE-MARK-DROP' || chain === 'KUBE-MARK-MASQ';
}

function isFinal(action: IrAction): boolean {
  switch (action.kind) {
    case 'accept':
    case 'drop':
    case 'reject':
    case 'return':
    case 'dnat':
    case 'redirect':
    case 'snat':
    case 'goto':
      return true;
    case 'continue':
    case 'jump':
    case 'mark':
    case 'log':
    case 'unsupported':
      return false;
  }
}

/** A random or stateful predicate: an earlier rule with one does not take all of its packets. */
function hasChance(rule: IrRule): boolean {
  return rule.predicates.some((p) => p.kind === 'random' || p.kind === 'nth' || p.kind === 'recent');
}

function predicateKey(p: IrPredicate): string {
  return JSON.stringify(p.kind === 'address' ? { ...p, cidrs: p.cidrs.map((c) => c.text) } : p);
}

/** Whether every packet that satisfies `later` satisfies `earlier`. */
function implies(later: IrPredicate, earlier: IrPredicate): boolean {
  if (predicateKey(later) === predicateKey(earlier)) return true;
  if (earlier.kind === 'address' && later.kind === 'address') {
    if (earlier.invert || later.invert || earlier.field !== later.field) return false;
    return later.cidrs.every((l) => earlier.cidrs.some((e) => cidrWithin(l, e)));
  }
  if (earlier.kind === 'port' && later.kind === 'port') {
    if (earlier.invert || later.invert || earlier.field !== later.field) return false;
    if (earlier.protocol !== null && earlier.protocol !== later.protocol) return false;
    return later.ranges.every((l) => earlier.ranges.some((e) => e.from <= l.from && l.to <= e.to));
  }
  return false;
}

/** Whether `earlier` matches every packet `later` matches (each of its conditions follows from one of later's). */
function covers(earlier: IrRule, later: IrRule): boolean {
  const trivial = (p: IrPredicate): boolean => p.kind === 'protocol' && p.protocol === 'all' && !p.invert;
  return earlier.predicates.every((e) => trivial(e) || later.predicates.some((l) => implies(l, e)));
}

function missingChains(tableName: TableName, table: IrTable): Anomaly[] {
  const out: Anomaly[] = [];
  for (const chain of table.chains.values()) {
    for (const rule of chain.rules) {
      const a = rule.action;
      if (a.kind === 'unsupported' && a.description.includes('no such chain')) {
        out.push({ kind: 'missing-chain', table: tableName, chain: chain.name, line: rule.line, message: a.description });
      }
    }
  }
  return out;
}

function callersByChain(table: IrTable): Map<string, Set<string>> {
  const callers = new Map<string, Set<string>>();
  for (const chain of table.chains.values()) {
    for (const rule of chain.rules) {
      const a = rule.action;
      if (a.kind !== 'jump' && a.kind !== 'goto') continue;
      const set = callers.get(a.chain) ?? new Set<string>();
      set.add(chain.name);
      callers.set(a.chain, set);
    }
  }
  return callers;
}

function reachableFromBuiltins(table: IrTable): Set<string> {
  const seen = new Set<string>();
  const todo = [...table.chains.values()].filter((c) => c.builtin).map((c) => c.name);
  while (todo.length > 0) {
    const name = todo.pop() ?? '';
    if (seen.has(name)) continue;
    seen.add(name);
    for (const rule of table.chains.get(name)?.rules ?? []) {
      const a = rule.action;
      if ((a.kind === 'jump' || a.kind === 'goto') && !seen.has(a.chain)) todo.push(a.chain);
    }
  }
  return seen;
}

function unreachableChains(tableName: TableName, table: IrTable): Anomaly[] {
  const out: Anomaly[] = [];
  const callers = callersByChain(table);
  const reachable = reachableFromBuiltins(table);
  for (const chain of table.chains.values()) {
    if (chain.builtin || alwaysPresent(chain.name)) continue;
    if (chain.rules.length === 0 && SERVICE_CHAIN.test(chain.name)) {
      out.push({ kind: 'stale-chain', table: tableName, chain: chain.name, line: null, message: `${chain.name} is empty (a leftover, or waiting to be deleted)` });
    }
    if (reachable.has(chain.name)) continue;
    const from = [...(callers.get(chain.name) ?? [])].sort();
    const endpoint = chain.name.startsWith('KUBE-SEP-');
    const via = from.length === 0 ? '' : ` (only ${from.join(', ')}, which no packet reaches, jump${from.length === 1 ? 's' : ''} to it)`;
    out.push({
      kind: endpoint ? 'orphan-endpoint-chain' : 'unreachable-chain',
      table: tableName,
      chain: chain.name,
      line: null,
      message: endpoint
        ? `endpoint chain ${chain.name} is used by no ${from.length === 0 ? '' : 'reachable '}service${via}`
        : `${from.length === 0 ? 'nothing jumps to' : 'no packet reaches'} ${chain.name}${via}`,
    });
  }
  return out;
}

function shadowedRules(tableName: TableName, table: IrTable): Anomaly[] {
  const out: Anomaly[] = [];
  for (const chain of table.chains.values()) {
    const finals: IrRule[] = [];
    for (const rule of chain.rules) {
      const earlier = finals.find((e) => covers(e, rule));
      if (earlier !== undefined && rule.line !== null) {
        const how = earlier.predicates.length === 0 ? 'every packet' : earlier.predicates.map(predicateKey).join() === rule.predicates.map(predicateKey).join() ? 'the same packets' : 'every packet it matches';
        out.push({
          kind: 'shadowed-rule',
          table: tableName,
          chain: chain.name,
          line: rule.line,
          message: `never reached: ${how} already left at ${earlier.line !== null ? `line ${earlier.line}` : earlier.assumed ? 'an assumed rule' : `rule ${earlier.position}`}`,
        });
        continue;
      }
      if (isFinal(rule.action) && !hasChance(rule)) finals.push(rule);
    }
  }
  return out;
}

export function findAnomalies(program: IrProgram): Anomaly[] {
  const out: Anomaly[] = [];
  for (const [tableName, table] of program.tables) {
    out.push(...missingChains(tableName, table), ...unreachableChains(tableName, table), ...shadowedRules(tableName, table));
  }
  return out;
}
