/**
 * Structural anomalies of a ruleset, found without tracing: chains nothing jumps to, endpoint
 * chains no service uses, empty per-service chains (left behind, or waiting for deletion),
 * jumps to chains that do not exist, and rules that can never be reached because an earlier
 * rule of the chain takes every packet (or the same packets) with a final verdict.
 */
import type { Anomaly } from './explain.js';
import type { IrAction, IrProgram, IrRule } from './ir.js';

const SERVICE_CHAIN = /^KUBE-(SVC|SVL|EXT|FW|SEP|XLB)-/;

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

/** The rule's conditions as text, without its comment and target (for "same packets" checks). */
function conditionKey(rule: IrRule): string {
  return JSON.stringify(rule.predicates.map((p) => (p.kind === 'address' ? { ...p, cidrs: p.cidrs.map((c) => c.text) } : p)));
}

/** A random or stateful predicate: an identical earlier rule does not take all of its packets. */
function hasChance(rule: IrRule): boolean {
  return rule.predicates.some((p) => p.kind === 'random' || p.kind === 'nth' || p.kind === 'recent');
}

export function findAnomalies(program: IrProgram): Anomaly[] {
  const out: Anomaly[] = [];
  for (const [tableName, table] of program.tables) {
    const referenced = new Set<string>();
    for (const chain of table.chains.values()) {
      for (const rule of chain.rules) {
        const a = rule.action;
        if (a.kind === 'jump' || a.kind === 'goto') referenced.add(a.chain);
        if (a.kind === 'unsupported' && a.description.includes('no such chain')) {
          out.push({ kind: 'missing-chain', table: tableName, chain: chain.name, line: rule.line, message: a.description });
        }
      }
    }
    for (const chain of table.chains.values()) {
      if (chain.builtin || chain.name.includes('CANARY')) continue;
      if (chain.rules.length === 0 && SERVICE_CHAIN.test(chain.name)) {
        out.push({ kind: 'stale-chain', table: tableName, chain: chain.name, line: null, message: `${chain.name} is empty (a leftover, or waiting to be deleted)` });
      }
      if (!referenced.has(chain.name)) {
        const endpoint = chain.name.startsWith('KUBE-SEP-');
        out.push({
          kind: endpoint ? 'orphan-endpoint-chain' : 'unreachable-chain',
          table: tableName,
          chain: chain.name,
          line: null,
          message: endpoint ? `endpoint chain ${chain.name} is used by no service` : `nothing jumps to ${chain.name}`,
        });
      }
    }
    for (const chain of table.chains.values()) {
      const finals = new Map<string, IrRule>();
      let catchAll: IrRule | null = null;
      for (const rule of chain.rules) {
        const key = conditionKey(rule);
        const earlier = catchAll ?? finals.get(key) ?? null;
        if (earlier !== null && rule.line !== null) {
          out.push({
            kind: 'shadowed-rule',
            table: tableName,
            chain: chain.name,
            line: rule.line,
            message: `never reached: ${earlier.predicates.length === 0 ? 'every packet' : 'the same packets'} already left at ${earlier.line === null ? 'an assumed rule' : `line ${earlier.line}`}`,
          });
          continue;
        }
        if (!isFinal(rule.action) || hasChance(rule)) continue;
        if (rule.predicates.length === 0) catchAll = rule;
        else finals.set(key, rule);
      }
    }
  }
  return out;
}
