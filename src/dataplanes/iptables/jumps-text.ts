/**
 * `rules --show-jumps`: the jump rules as the iptables commands that install them, in
 * installation order, with `-N` for a target chain the restore input does not create.
 */
import type { IPFamily } from '../../core/model/objects.js';
import type { RuleFormat } from '../../core/naming/service-port-name.js';
import { jumpRules } from './jumps.js';
import type { Ruleset } from './model.js';
import { usesKubeletDropChains } from './render-legacy.js';
import { quoteWord } from './serialize.js';

export function installedJumpText(ruleset: Ruleset, format: RuleFormat, family: IPFamily): string {
  const tool = family === 'IPv6' ? 'ip6tables' : 'iptables';
  const declared = new Set<string>();
  for (const t of ruleset.tables) for (const c of t.chains) declared.add(`${t.name}/${c.name}`);
  const rules = jumpRules(format, { legacyKubeletFirewall: usesKubeletDropChains(ruleset) });
  const lines = [
    '# Applied after the restore input: each rule is inserted at the top of its chain (-I)',
    '# unless an identical rule is already there (-C), in this order.',
  ];
  for (const rule of rules) {
    const key = `${rule.table}/${rule.target}`;
    if (!declared.has(key)) {
      lines.push(`${tool} -t ${rule.table} -N ${rule.target}`);
      declared.add(key);
    }
    lines.push(`${tool} -t ${rule.table} -I ${rule.chain} ${rule.words.map(quoteWord).join(' ')}`);
  }
  return lines.join('\n') + '\n';
}
