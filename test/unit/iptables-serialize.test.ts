/** Restore text and quoting: the single source of truth the parser reads back. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Ruleset } from '../../src/dataplanes/iptables/model.js';
import { parseIptables } from '../../src/dataplanes/iptables/parse.js';
import { quoteWord, serializeRule, serializeRuleset } from '../../src/dataplanes/iptables/serialize.js';
import { stripLines } from './iptables-helpers.js';

test('plain words are written bare, as kube-proxy writes one-word comments', () => {
  for (const w of ['ns1/svc1:p80', 'default/nginx:', '0x00004000/0x00004000', '!', '127.0.0.0/8', '[fd00::1]:80', 'ümlaut']) {
    assert.equal(quoteWord(w), w);
  }
});

test('words with spaces or special characters are double-quoted and escaped', () => {
  assert.equal(quoteWord('ns1/svc1:p80 cluster IP'), '"ns1/svc1:p80 cluster IP"');
  assert.equal(quoteWord(''), '""');
  assert.equal(quoteWord('a"b'), '"a\\"b"');
  assert.equal(quoteWord('back\\slash'), '"back\\\\slash"');
  assert.equal(quoteWord("it's"), '"it\'s"');
  assert.equal(quoteWord('tab\there'), '"tab\\\\x09here"');
});

test('no word can break a line', () => {
  const nasty = ['line\nbreak', 'carriage\rreturn', 'nul\u0000', 'del\u007f', '"\n-A KUBE-SERVICES -j ACCEPT\n#'];
  for (const w of nasty) {
    const line = serializeRule({ chain: 'KUBE-SERVICES', words: ['-m', 'comment', '--comment', w, '-j', 'ACCEPT'] });
    assert.equal(line.split('\n').length, 1, JSON.stringify(w));
    // eslint-disable-next-line no-control-regex -- the point is that none is written
    assert.ok(!/[\u0000-\u001f\u007f]/.test(line), JSON.stringify(w));
    const reparsed = parseIptables(`*nat\n:KUBE-SERVICES - [0:0]\n${line}\nCOMMIT\n`).tables[0]?.rules[0]?.words;
    assert.equal(reparsed?.length, 6, `still one comment word: ${JSON.stringify(w)}`);
  }
});

test('parse(serialize(x)) = x for words without control characters', () => {
  const ruleset: Ruleset = {
    tables: [
      {
        name: 'filter',
        chains: [{ name: 'KUBE-SERVICES', policy: '-', counters: [0, 0] }],
        rules: [
          { chain: 'KUBE-SERVICES', words: ['-m', 'comment', '--comment', 'a "quoted" \\ word', '-j', 'REJECT'] },
          { chain: 'KUBE-SERVICES', words: ['-m', 'comment', '--comment', '', '-j', 'DROP'] },
        ],
        deletedChains: [],
      },
      {
        name: 'nat',
        chains: [{ name: 'KUBE-SEP-X', policy: '-', counters: [0, 0] }],
        rules: [],
        deletedChains: ['KUBE-SEP-X'],
      },
    ],
  };
  const parsed = parseIptables(serializeRuleset(ruleset));
  assert.deepEqual(stripLines({ tables: parsed.tables }), ruleset);
});

test('restore text layout: table, chains, rules, deletions, COMMIT', () => {
  const text = serializeRuleset({
    tables: [
      {
        name: 'nat',
        chains: [
          { name: 'KUBE-SERVICES', policy: '-', counters: [0, 0] },
          { name: 'KUBE-SVC-OLD', policy: '-', counters: [0, 0] },
        ],
        rules: [{ chain: 'KUBE-SERVICES', words: ['-j', 'RETURN'] }],
        deletedChains: ['KUBE-SVC-OLD'],
      },
    ],
  });
  assert.equal(text, '*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-OLD - [0:0]\n-A KUBE-SERVICES -j RETURN\n-X KUBE-SVC-OLD\nCOMMIT\n');
});
