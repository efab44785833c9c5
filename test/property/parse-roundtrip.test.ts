import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseIptables } from '../../src/dataplanes/iptables/parse.js';
import { serializeRuleset } from '../../src/dataplanes/iptables/serialize.js';
import { TABLE_NAMES, type ChainDecl, type Rule, type Ruleset, type TableName, type TableSection } from '../../src/dataplanes/iptables/model.js';
import { BUILTIN_CHAINS } from '../../src/dataplanes/iptables/parse.js';
import { splitWords } from '../../src/dataplanes/iptables/tokenize.js';
import { quoteWord } from '../../src/dataplanes/iptables/serialize.js';
import { stripLines } from '../unit/iptables-helpers.js';

// Words of any printable text: spaces, quotes, backslashes, "!", "#", "[", "-", non-ASCII.
// (Control characters are excluded: the serializer writes them lossily, on purpose.)
const wordChar = fc.constantFrom('a', 'Z', '0', '9', '-', '_', '/', ':', '.', ',', '!', '#', '[', ']', '"', '\\', "'", ' ', '=', '+', '*', '%', 'é', '→', 'ab', 'KUBE-', '--');
const word = fc.array(wordChar, { maxLength: 8 }).map((parts) => parts.join(''));
const chainName = fc
  .tuple(fc.constantFrom('KUBE-', 'X', 'my chain', 'a"b', 'c\\d', 'é'), fc.array(wordChar, { maxLength: 5 }))
  .map(([head, tail]) => head + tail.join(''))
  .filter((n) => n.trim() !== '' && !n.startsWith('-') && !n.startsWith('!'));
const counters = fc.option(fc.tuple(fc.nat(), fc.nat()), { nil: null });

function tableSection(name: TableName): fc.Arbitrary<TableSection> {
  const builtins = BUILTIN_CHAINS[name];
  return fc
    .record({
      userChains: fc.uniqueArray(chainName, { maxLength: 4 }).map((names) => names.filter((n) => !builtins.includes(n))),
      builtinPolicies: fc.array(fc.tuple(fc.constantFrom(...builtins), fc.constantFrom('ACCEPT', 'DROP', '-'), counters), { maxLength: 3 }),
      userCounters: fc.array(counters, { minLength: 4, maxLength: 4 }),
      rules: fc.array(fc.tuple(fc.nat(), fc.array(word, { maxLength: 8 })), { maxLength: 8 }),
      deleted: fc.array(chainName, { maxLength: 2 }),
    })
    .map(({ userChains, builtinPolicies, userCounters, rules, deleted }) => {
      const chains: ChainDecl[] = [];
      const seen = new Set<string>();
      for (const [chain, policy, c] of builtinPolicies) {
        if (seen.has(chain)) continue;
        seen.add(chain);
        chains.push({ name: chain, policy, counters: c });
      }
      userChains.forEach((n, i) => chains.push({ name: n, policy: '-', counters: userCounters[i] ?? null }));
      const targets = [...builtins, ...userChains];
      const ruleList: Rule[] = rules.map(([k, words]) => ({ chain: targets[k % targets.length] ?? 'X', words }));
      return { name, chains, rules: ruleList, deletedChains: deleted };
    });
}

const ruleset: fc.Arbitrary<Ruleset> = fc
  .array(fc.constantFrom(...TABLE_NAMES), { maxLength: 4 })
  .chain((names) => fc.tuple(...names.map(tableSection)))
  .map((tables) => ({ tables }));

test('parse(serialize(x)) == x for random rulesets', () => {
  fc.assert(
    fc.property(ruleset, (rs) => {
      const parsed = parseIptables(serializeRuleset(rs));
      assert.deepEqual(stripLines({ tables: parsed.tables }), rs);
    }),
    { numRuns: 300 },
  );
});

test('the tokenizer reads back any quoted word list exactly', () => {
  fc.assert(
    fc.property(fc.array(word, { maxLength: 10 }), (words) => {
      assert.deepEqual(splitWords(words.map(quoteWord).join(' ')), words);
    }),
    { numRuns: 500 },
  );
});
