/**
 * Ruleset → `iptables-restore` text. The single source of truth for quoting words: the parser
 * reads back exactly what `quoteWord` writes.
 *
 * iptables-restore splits a line on spaces and tabs; a double quote opens or closes a quoted
 * word, and inside quotes a backslash makes the next character literal. Outside quotes a
 * backslash is an ordinary character, and nothing can represent a line break. So:
 * - a word made only of safe characters is written as is (kube-proxy writes `--comment ns/svc`);
 * - any other word is double-quoted, with `\` and `"` backslash-escaped;
 * - control characters (which could end or corrupt the line) are written as the four visible
 *   characters `\xNN` — a lossy but safe spelling: no name or comment can break a line.
 */
import type { ChainDecl, Rule, Ruleset, TableSection } from './model.js';

// Printable ASCII except space, quotes and backslash, plus anything non-ASCII.
const SAFE_WORD = /^[!#-&(-[\]-~\u0080-\uffff]+$/;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/g;

export function quoteWord(word: string): string {
  if (SAFE_WORD.test(word)) return word;
  const escaped = word
    .replace(/[\\"]/g, (c) => `\\${c}`)
    .replace(CONTROL, (c) => `\\\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `"${escaped}"`;
}

export function serializeChainDecl(chain: ChainDecl): string {
  const counters = chain.counters === null ? '' : ` [${chain.counters[0]}:${chain.counters[1]}]`;
  return `:${quoteWord(chain.name)} ${quoteWord(chain.policy)}${counters}`;
}

export function serializeRule(rule: Rule): string {
  let line = `-A ${quoteWord(rule.chain)}`;
  for (const word of rule.words) line += ` ${quoteWord(word)}`;
  return line;
}

export function serializeTable(table: TableSection): string {
  const lines: string[] = [`*${table.name}`];
  for (const chain of table.chains) lines.push(serializeChainDecl(chain));
  for (const rule of table.rules) lines.push(serializeRule(rule));
  for (const chain of table.deletedChains) lines.push(`-X ${quoteWord(chain)}`);
  lines.push('COMMIT');
  return lines.join('\n') + '\n';
}

/** The whole restore input: every table, each ending with COMMIT. */
export function serializeRuleset(ruleset: Ruleset): string {
  let out = '';
  for (const table of ruleset.tables) out += serializeTable(table);
  return out;
}
