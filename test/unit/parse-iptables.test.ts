import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { repoPath } from '../helpers/paths.js';
import { parseIptables, type ParsedRuleset } from '../../src/dataplanes/iptables/parse.js';
import { splitWords, tokenizeLine } from '../../src/dataplanes/iptables/tokenize.js';
import { isKproxyError } from '../../src/core/errors.js';
import type { Rule, TableSection } from '../../src/dataplanes/iptables/model.js';

function read(...parts: string[]): string {
  return fs.readFileSync(repoPath(...parts), 'utf8');
}

function table(rs: ParsedRuleset, name: string): TableSection {
  const t = rs.tables.find((x) => x.name === name);
  assert.ok(t, `table ${name} present`);
  return t;
}

/** Every rule's line number points at its own `-A CHAIN words…` line of the text. */
function assertLinesPointAtRules(text: string, rs: ParsedRuleset): void {
  const lines = text.split('\n');
  let count = 0;
  for (const t of rs.tables) {
    for (const rule of t.rules) {
      assert.ok(rule.line !== undefined, 'parsed rules carry a line number');
      const words = [...splitWords(lines[rule.line - 1] ?? '')];
      if (words[0]?.startsWith('[') === true) words.shift();
      assert.deepEqual(words, ['-A', rule.chain, ...rule.words], `line ${rule.line}`);
      count++;
    }
  }
  assert.ok(count > 0);
}

function withoutLines(rules: readonly Rule[]): { chain: string; words: readonly string[] }[] {
  return rules.map((r) => ({ chain: r.chain, words: r.words }));
}

test('tokenizer: quotes group, the closing quote ends a word, backslash escapes only inside quotes', () => {
  assert.deepEqual(splitWords('-A X -m comment --comment "a b" -j Y'), ['-A', 'X', '-m', 'comment', '--comment', 'a b', '-j', 'Y']);
  assert.deepEqual(splitWords('a  \t b'), ['a', 'b']);
  assert.deepEqual(splitWords('"a b"c'), ['a b', 'c']);
  assert.deepEqual(splitWords('ab"c d"'), ['abc d']);
  assert.deepEqual(splitWords('x "" y'), ['x', '', 'y']);
  assert.deepEqual(splitWords('"say \\"hi\\" \\\\ ok"'), ['say "hi" \\ ok']);
  assert.deepEqual(splitWords('a\\b'), ['a\\b']);
  assert.deepEqual(tokenizeLine('"-t" -t').quoted, [true, false]);
  assert.throws(() => splitWords('--comment "open', 7), (e: unknown) => isKproxyError(e) && e.code === 'E_PARSE' && /line 7/.test(e.message));
});

test('restore input: the golden kube-proxy output parses, every rule keeps its line', () => {
  const text = read('test/golden/kube-proxy/iptables-overall.expected.txt');
  const rs = parseIptables(text);
  assert.equal(rs.kind, 'restore');
  assert.deepEqual(rs.tables.map((t) => t.name), ['filter', 'nat']);
  assert.equal(table(rs, 'filter').chains.length, 6);
  assert.equal(table(rs, 'nat').chains.length, 20);
  assert.ok(table(rs, 'nat').chains.every((c) => c.policy === '-' && c.counters?.[0] === 0));
  const comment = table(rs, 'nat').rules.find((r) => r.chain === 'KUBE-SVC-XPGD46QRK7WJZT7O' && r.words.includes('KUBE-MARK-MASQ'));
  assert.deepEqual(comment?.words.slice(0, 4), ['-m', 'comment', '--comment', 'ns1/svc1:p80 cluster IP']);
  assertLinesPointAtRules(text, rs);
});

test('restore input: several steps with # comments, -X deletions and repeated tables', () => {
  const text = read('test/golden/kube-proxy/iptables-sync-repeated-partial.expected.txt');
  const rs = parseIptables(text);
  assert.equal(rs.kind, 'restore');
  const tableLines = text.split('\n').filter((l) => l.startsWith('*'));
  assert.ok(tableLines.length >= 10);
  assert.deepEqual(rs.tables.map((t) => `*${t.name}`), tableLines);
  const deleted = rs.tables.flatMap((t) => t.deletedChains);
  const xLines = text.split('\n').filter((l) => l.startsWith('-X '));
  assert.deepEqual(deleted, xLines.map((l) => l.slice(3)));
  assertLinesPointAtRules(text, rs);
});

for (const name of ['overall-current', 'nginx-current', 'nginx-2018']) {
  test(`iptables-save output (${name}): nf_tables and legacy dumps parse to the same rules`, () => {
    const nftText = read('test/fixtures/dumps', `${name}.nft.save.txt`);
    const nft = parseIptables(nftText);
    const legacy = parseIptables(read('test/fixtures/dumps', `${name}.legacy.save.txt`));
    assert.equal(nft.kind, 'save');
    assert.equal(legacy.kind, 'save');
    for (const t of ['filter', 'nat']) {
      assert.deepEqual(withoutLines(table(nft, t).rules), withoutLines(table(legacy, t).rules));
      assert.deepEqual(table(nft, t).chains, table(legacy, t).chains);
    }
    const input = table(nft, 'filter').chains.find((c) => c.name === 'INPUT');
    assert.deepEqual(input, { name: 'INPUT', policy: 'ACCEPT', counters: [0, 0] });
    assertLinesPointAtRules(nftText, nft);
  });
}

test('iptables-save -c output: [packets:bytes] rule prefixes are read and the rules are the same', () => {
  const plain = parseIptables(read('test/fixtures/dumps/nginx-current.nft.save.txt'));
  const text = read('test/fixtures/dumps/nginx-current.nft.counters.save.txt');
  assert.match(text, /^\[\d+:\d+\] -A /m);
  const counted = parseIptables(text);
  for (const t of ['filter', 'nat']) {
    assert.deepEqual(withoutLines(table(counted, t).rules), withoutLines(table(plain, t).rules));
  }
  assertLinesPointAtRules(text, counted);
});

test("the article's 2018-format lines parse (quoted comments with a trailing colon, /32, 11-digit probabilities)", () => {
  const ruleLines = read('test/fixtures/dumps/article-2018.lines.txt').split('\n').filter((l) => l !== '');
  assert.equal(ruleLines.length, 10);
  const chains = [...new Set(ruleLines.map((l) => splitWords(l)[1] ?? ''))];
  const text = ['*nat', ...chains.map((c) => `:${c} - [0:0]`), ...ruleLines, 'COMMIT', ''].join('\n');
  const rs = parseIptables(text);
  const nat = table(rs, 'nat');
  assert.equal(nat.rules.length, ruleLines.length);
  const first = nat.rules.find((r) => r.chain === 'KUBE-SEP-G4A7DIXDTUZ6AHE3');
  assert.deepEqual(first?.words, ['-s', '172.18.0.5/32', '-m', 'comment', '--comment', 'default/nginx:', '-j', 'KUBE-MARK-MASQ']);
  assert.ok(nat.rules.some((r) => r.words.includes('0.33333333349')));
});

test('save detection: a policy on a built-in chain or the iptables-save header', () => {
  assert.equal(parseIptables('*nat\n:PREROUTING ACCEPT [1:2]\nCOMMIT\n').kind, 'save');
  assert.equal(parseIptables('# Generated by iptables-nft-save v1.8.7 on x\n*nat\n:X - [0:0]\nCOMMIT\n').kind, 'save');
  assert.equal(parseIptables('*nat\n:X - [0:0]\n-A X -j RETURN\nCOMMIT\n').kind, 'restore');
  const noCounters = parseIptables('*filter\n:INPUT DROP\nCOMMIT\n');
  assert.deepEqual(noCounters.tables[0]?.chains[0], { name: 'INPUT', policy: 'DROP', counters: null });
});

test('-I inserts at a position of its chain, -N declares, -F flushes, -P sets a policy', () => {
  const rs = parseIptables(
    ['*filter', '-N A', '-A A -j ACCEPT', '-A INPUT -j A', '-A A -j DROP', '-I A -s 1.1.1.1 -j RETURN', '-I A 3 -d 2.2.2.2 -j RETURN', '-I INPUT 2 -j LOG', '-P FORWARD DROP', 'COMMIT', '*nat', '-A X -j RETURN', '-F X', '-A Y -j RETURN', 'COMMIT'].join('\n'),
  );
  const filter = table(rs, 'filter');
  const a = filter.rules.filter((r) => r.chain === 'A').map((r) => [r.line, r.words.join(' ')]);
  assert.deepEqual(a, [
    [6, '-s 1.1.1.1 -j RETURN'],
    [3, '-j ACCEPT'],
    [7, '-d 2.2.2.2 -j RETURN'],
    [5, '-j DROP'],
  ]);
  assert.deepEqual(filter.rules.filter((r) => r.chain === 'INPUT').map((r) => r.words.join(' ')), ['-j A', '-j LOG']);
  assert.deepEqual(filter.chains, [
    { name: 'A', policy: '-', counters: null },
    { name: 'FORWARD', policy: 'DROP', counters: null },
  ]);
  assert.equal(rs.kind, 'save');
  assert.deepEqual(table(rs, 'nat').rules.map((r) => r.chain), ['Y']);
});

function parseError(text: string): string {
  try {
    parseIptables(text, 'dump.txt');
  } catch (e) {
    assert.ok(isKproxyError(e), 'a KproxyError');
    assert.equal(e.code, 'E_PARSE');
    return e.message;
  }
  assert.fail(`no error for ${JSON.stringify(text)}`);
}

test('malformed input is an E_PARSE error naming the line', () => {
  assert.match(parseError('*nat\n:X - [0:0]\n-A X -j RETURN\n'), /dump\.txt:1: table nat has no COMMIT/);
  assert.match(parseError('\n-A X -j RETURN\n'), /dump\.txt:2: a line outside a table/);
  assert.match(parseError('*nat\n*filter\nCOMMIT\n'), /dump\.txt:2: a new table starts before COMMIT/);
  assert.match(parseError('*bogus\nCOMMIT\n'), /dump\.txt:1: unknown table "bogus"/);
  assert.match(parseError('*nat\n:KUBE-X ACCEPT [0:0]\nCOMMIT\n'), /:2: user chain KUBE-X cannot have a policy/);
  assert.match(parseError('*nat\n:PREROUTING MAYBE [0:0]\nCOMMIT\n'), /:2: invalid policy "MAYBE"/);
  assert.match(parseError('*nat\n:X\nCOMMIT\n'), /:2: chain X has no policy/);
  assert.match(parseError('*nat\n:X - [a:b]\nCOMMIT\n'), /:2: invalid counters "\[a:b\]"/);
  assert.match(parseError('*nat\n:X - [0:0]\n:X - [0:0]\nCOMMIT\n'), /:3: chain X is declared twice/);
  assert.match(parseError('*nat\n[1:x] -A X -j RETURN\nCOMMIT\n'), /:2: invalid rule counters/);
  assert.match(parseError('*nat\n-D X -j RETURN\nCOMMIT\n'), /:2: unsupported command "-D"/);
  assert.match(parseError('*nat\n-A\nCOMMIT\n'), /:2: -A needs a chain name/);
  assert.match(parseError('*nat\n-A X -m comment --comment "oops\nCOMMIT\n'), /line 2: unterminated double quote/);
  assert.match(parseError('*filter\n-I INPUT 3 -j DROP\nCOMMIT\n'), /:2: -I INPUT 3: the chain has only 0 rule/);
  assert.match(parseError('*filter\n-P KUBE-X DROP\nCOMMIT\n'), /:2: -P: KUBE-X is not a built-in chain/);
});

test('blank lines, comment lines and CRLF line ends are accepted', () => {
  const rs = parseIptables('# a comment\r\n\r\n*nat\r\n  \r\n:X - [0:0]\r\n-A X -m comment --comment "a b" -j RETURN\r\nCOMMIT\r\n');
  assert.deepEqual(table(rs, 'nat').rules, [{ chain: 'X', words: ['-m', 'comment', '--comment', 'a b', '-j', 'RETURN'], line: 6 }]);
});
