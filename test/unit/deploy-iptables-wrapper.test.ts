/**
 * deploy/iptables-wrapper.sh, the image's iptables: it must run the backend (legacy or nft) the
 * host already uses. Driven against fake backends in a temporary directory (the wrapper's
 * KPROXY_IPTABLES_SBIN), so no real iptables runs: each fake `*-save` prints a canned ruleset,
 * each fake backend binary prints its own name and arguments (a save first prints `# NAME ARGS`).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { repoPath } from '../helpers/paths.js';

const WRAPPER = repoPath('deploy/iptables-wrapper.sh');
const TOOLS = ['iptables', 'iptables-save', 'iptables-restore', 'ip6tables', 'ip6tables-save', 'ip6tables-restore'];

/** What each fake save prints: the whole ruleset, and (nft only) the mangle table alone. */
interface HostRules {
  readonly [save: string]: { readonly all?: string; readonly mangle?: string } | undefined;
}

const HINT = '*mangle\n:KUBE-IPTABLES-HINT - [0:0]\n:KUBE-KUBELET-CANARY - [0:0]\nCOMMIT\n';
const rules = (n: number): string => `*nat\n:KUBE-SERVICES - [0:0]\n${Array.from({ length: n }, (_, i) => `-A KUBE-SERVICES -d 10.96.0.${i}/32 -j ACCEPT\n`).join('')}COMMIT\n`;

interface Host {
  run(tool: string, args?: readonly string[], env?: Record<string, string>): { status: number | null; stdout: string; stderr: string };
  readonly modeFile: string;
}

function fakeHost(host: HostRules): Host {
  const dir = mkdtempSync(path.join(tmpdir(), 'kproxy-iptables-wrapper-'));
  const sbin = path.join(dir, 'sbin');
  const bin = path.join(dir, 'bin');
  mkdirSync(sbin);
  mkdirSync(bin);
  const script = (file: string, body: string): void => {
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
  };
  for (const family of ['iptables', 'ip6tables']) {
    for (const backend of ['legacy', 'nft']) {
      const save = `${family}-${backend}-save`;
      const canned = host[save];
      const all = path.join(dir, `${save}.all`);
      const mangle = path.join(dir, `${save}.mangle`);
      writeFileSync(all, canned?.all ?? '');
      writeFileSync(mangle, canned?.mangle ?? '');
      // A first line naming the tool (a comment: it is neither a rule nor a chain to the wrapper).
      script(path.join(sbin, save), `echo "# $(basename "$0") $*"; if [ "$1" = -t ]; then cat '${mangle}'; else cat '${all}'; fi`);
      for (const suffix of ['', '-restore']) script(path.join(sbin, `${family}-${backend}${suffix}`), 'echo "$(basename "$0") $*"');
    }
  }
  for (const tool of TOOLS) symlinkSync(WRAPPER, path.join(bin, tool));
  const modeFile = path.join(dir, 'backend');
  return {
    modeFile,
    run(tool, args = [], env = {}) {
      const r = spawnSync(path.join(bin, tool), [...args], {
        encoding: 'utf8',
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', KPROXY_IPTABLES_SBIN: sbin, KPROXY_IPTABLES_MODE_FILE: modeFile, ...env },
      });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
  };
}

function backendChosen(host: HostRules, env: Record<string, string> = {}): string {
  const r = fakeHost(host).run('iptables-save', [], env);
  assert.equal(r.status, 0, r.stderr);
  return (r.stdout.split('\n')[0] ?? '').trim();
}

test('kubelet\'s marker chains decide: nft first, then legacy', () => {
  assert.equal(backendChosen({ 'iptables-nft-save': { mangle: HINT }, 'iptables-legacy-save': { all: rules(50) } }), '# iptables-nft-save');
  assert.equal(backendChosen({ 'ip6tables-nft-save': { mangle: HINT } }), '# iptables-nft-save', 'the IPv6 marker counts too');
  assert.equal(backendChosen({ 'iptables-legacy-save': { all: HINT }, 'iptables-nft-save': { all: rules(3) } }), '# iptables-legacy-save');
  assert.equal(backendChosen({ 'ip6tables-legacy-save': { all: HINT } }), '# iptables-legacy-save');
});

test('without the markers, the backend with more rules wins; nft when neither has any', () => {
  assert.equal(backendChosen({ 'iptables-legacy-save': { all: rules(5) }, 'iptables-nft-save': { all: rules(2) } }), '# iptables-legacy-save');
  assert.equal(backendChosen({ 'ip6tables-legacy-save': { all: rules(1) } }), '# iptables-legacy-save');
  assert.equal(backendChosen({ 'iptables-legacy-save': { all: rules(2) }, 'iptables-nft-save': { all: rules(2) } }), '# iptables-nft-save');
  assert.equal(backendChosen({}), '# iptables-nft-save');
});

test('KPROXY_IPTABLES_BACKEND overrides the detection; a wrong value is an error', () => {
  assert.equal(backendChosen({ 'iptables-nft-save': { mangle: HINT } }, { KPROXY_IPTABLES_BACKEND: 'legacy' }), '# iptables-legacy-save');
  const r = fakeHost({}).run('iptables', [], { KPROXY_IPTABLES_BACKEND: 'both' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /must be legacy or nft/);
});

test('each tool runs its counterpart of the chosen backend with the same arguments; the first decision is kept', () => {
  const host = fakeHost({ 'iptables-legacy-save': { all: HINT } });
  const first = host.run('ip6tables-restore', ['--noflush', '--counters']);
  assert.equal(first.stdout.trim(), 'ip6tables-legacy-restore --noflush --counters');
  assert.match(first.stderr, /using the legacy backend/);
  assert.equal(readFileSync(host.modeFile, 'utf8').trim(), 'legacy');
  for (const [tool, expected] of [
    ['iptables', 'iptables-legacy -w -L'],
    ['iptables-restore', 'iptables-legacy-restore -w -L'],
    ['ip6tables', 'ip6tables-legacy -w -L'],
    ['ip6tables-save', '# ip6tables-legacy-save -w -L'],
  ] as const) {
    const r = host.run(tool, ['-w', '-L'], { KPROXY_IPTABLES_BACKEND: 'nft' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.split('\n')[0], expected, `${tool}: the kept decision wins`);
    assert.equal(r.stderr, '', 'decided once');
  }
});
