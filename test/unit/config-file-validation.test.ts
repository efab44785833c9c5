/**
 * A --config file is validated as a whole, as kube-proxy validates its configuration: one error
 * names every invalid field, whether it shapes the rules (masqueradeBit, mode) or not
 * (oomScoreAdj, bind addresses, periods); unknown fields stay warnings. `rules --config` gets the
 * same validation as `run --config`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { KproxyError } from '../../src/core/errors.js';
import { formatDiagnostic } from '../../src/core/model/diagnostics.js';
import { parseKubeProxyConfiguration } from '../../src/cli/options/kube-proxy-config.js';
import { readTextFileSync } from '../../src/runtime/io.js';
import { runKproxy } from '../helpers/cli.js';
import { repoPath } from '../helpers/paths.js';

const KUBEADM = readTextFileSync(repoPath('test/fixtures/config/kubeadm-v1.31.config.conf'));

/** kubeadm's config.conf with some top-level or nested `key: value` lines replaced. */
function edited(replacements: Readonly<Record<string, string>>): string {
  let text = KUBEADM;
  for (const [from, to] of Object.entries(replacements)) {
    assert.ok(text.includes(from), `the fixture has "${from}"`);
    text = text.replace(from, to);
  }
  return text;
}

function configError(text: string): string {
  try {
    parseKubeProxyConfiguration(text, 'config.conf');
  } catch (err) {
    assert.ok(err instanceof KproxyError);
    assert.equal(err.code, 'E_CONFIG');
    return err.message;
  }
  assert.fail('the file was accepted');
}

test('one error names every invalid field, rendering and operational ones alike', () => {
  const message = configError(
    edited({
      'oomScoreAdj: null': 'oomScoreAdj: 5000',
      'healthzBindAddress: ""': 'healthzBindAddress: "1.2.3:x"',
      'mode: ""': 'mode: userspac',
      '  masqueradeBit: null\n  minSyncPeriod: 0s\n  syncPeriod: 0s\nipvs:': '  masqueradeBit: 40\n  minSyncPeriod: 0s\n  syncPeriod: 0s\nipvs:',
      'bindAddress: 0.0.0.0': 'bindAddress: not-an-ip',
      '  burst: 0': '  burst: -1',
    }),
  );
  const lines = message.split('\n');
  for (const field of ['mode', 'iptables.masqueradeBit', 'oomScoreAdj', 'healthzBindAddress', 'bindAddress', 'clientConnection.burst']) {
    assert.ok(lines.some((l) => l.startsWith(`config.conf: ${field}: `)), `${field} is named in:\n${message}`);
  }
  assert.match(message, /oomScoreAdj: must be within the range \[-1000, 1000\] \(got 5000\)/);
});

test('the sync periods of the active mode are checked against each other', () => {
  const message = configError(edited({ '  minSyncPeriod: 0s\n  syncPeriod: 0s\nipvs:': '  minSyncPeriod: 1m\n  syncPeriod: 10s\nipvs:' }));
  assert.match(message, /config\.conf: iptables\.minSyncPeriod: must be less than or equal to the sync period/);
});

test('kubeadm\'s file as written is valid, and unknown fields are only warnings', () => {
  const file = parseKubeProxyConfiguration(edited({ 'portRange: ""': 'portRange: ""\nbogusField: 1' }), 'config.conf');
  assert.deepEqual(file.warnings.map(formatDiagnostic), ['config.conf: bogusField: warning: unknown field, ignored']);
  assert.equal(file.config.oomScoreAdj, -999);
});

test('rules --config refuses a file with an invalid operational field, naming it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kproxy-config-validation-'));
  try {
    const path = join(dir, 'config.conf');
    await writeFile(path, edited({ 'oomScoreAdj: null': 'oomScoreAdj: -5000' }));
    const r = runKproxy(['rules', '--config', path, '-f', repoPath('examples/article-nginx.yaml'), '--hostname-override', 'node-1']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /config\.conf: oomScoreAdj: must be within the range \[-1000, 1000\] \(got -5000\)/);
    assert.equal(r.stdout, '');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('rules --config prints a config-file warning located at the field, as README states (CONFIG-FILE: field: warning: ...)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kproxy-config-warning-'));
  try {
    const path = join(dir, 'config.conf');
    await writeFile(path, edited({ 'portRange: ""': 'portRange: ""\nbogusField: 1' }));
    const r = runKproxy(['rules', '--config', path, '-f', repoPath('examples/article-nginx-endpoints.yaml'), '--hostname-override', 'node-1', '--masquerade-all']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stderr.split('\n').filter((l) => l !== ''), [
      `${path}: bogusField: warning: unknown field, ignored`,
      `flags: --masquerade-all: warning: ignored because --config ${path} is given (as kube-proxy does)`,
    ]);
    const readme = readTextFileSync(repoPath('README.md'));
    assert.match(readme, /`CONFIG-FILE: nodePortAddresses: warning: \.\.\.`/, 'the documented form');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
