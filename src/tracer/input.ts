/**
 * The tracer's input text: `iptables-save` output or `iptables-restore` input — or, as people
 * paste them from a node, the rule lines alone (`iptables-save | grep nginx`, as in the article
 * this project grew from). Rule lines without any `*table` line are read as the nat table, where
 * kube-proxy's service chains live, and a note says so; line numbers stay those of the input.
 */
import { KproxyError, isKproxyError } from '../core/errors.js';
import type { Ruleset } from '../dataplanes/iptables/model.js';
import { parseIptables } from '../dataplanes/iptables/parse.js';
import type { IrProgram } from './ir.js';
import { lowerIptables } from './lower-iptables.js';

export interface RulesInput {
  readonly ruleset: Ruleset;
  /** What was assumed about the input. */
  readonly notes: readonly string[];
}

const RULE_LINE = /^\s*(\[\d+:\d+\]\s+)?-[AI]\s/;
const TABLE_LINE = /^\s*\*/;

/** Rule lines only (no `*table` line): the output of a grep over a dump. */
function isBareRuleLines(text: string): boolean {
  const lines = text.split('\n');
  return !lines.some((l) => TABLE_LINE.test(l)) && lines.some((l) => RULE_LINE.test(l));
}

/** An error about the wrapped text names a line one too far down: `SOURCE:N:` (parser) or `line N:` (tokenizer). */
function shiftLine(e: KproxyError, source: string): KproxyError {
  for (const prefix of [`${source}:`, 'line ']) {
    if (!e.message.startsWith(prefix)) continue;
    const rest = e.message.slice(prefix.length);
    const m = /^(\d+):/.exec(rest);
    if (m === null) continue;
    const line = Math.max(1, Number(m[1]) - 1);
    return new KproxyError(e.code, `${source}:${line}:${rest.slice((m[1] ?? '').length + 1)}`, { cause: e });
  }
  return e;
}

/** Parses rules text; bare rule lines are read as the nat table. */
function parseRulesText(text: string, source: string): RulesInput {
  if (!isBareRuleLines(text)) return { ruleset: parseIptables(text, source), notes: [] };
  let parsed: Ruleset;
  try {
    parsed = parseIptables(`*nat\n${text}${text.endsWith('\n') ? '' : '\n'}COMMIT\n`, source);
  } catch (e) {
    throw isKproxyError(e) ? shiftLine(e, source) : e;
  }
  const ruleset: Ruleset = {
    tables: parsed.tables.map((t) => ({
      ...t,
      rules: t.rules.map((r) => (r.line === undefined ? r : { ...r, line: r.line - 1 })),
    })),
  };
  return {
    ruleset,
    notes: [`${source} has rule lines but no "*table" line (a grep of a dump?): read as the nat table, where kube-proxy's service chains are`],
  };
}

/** Rules text → the tracer's program, with the input's notes first. */
export function programFromText(text: string, source: string): IrProgram {
  const input = parseRulesText(text, source);
  const program = lowerIptables(input.ruleset, { sourceLines: text.split('\n') });
  return { ...program, notes: [...input.notes, ...program.notes] };
}
