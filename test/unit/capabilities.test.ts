/**
 * The start-up checks that turn "cannot ever work here" into one clear error: CAP_NET_ADMIN for
 * the daemon and cleanup, and the --netns target (a name, root, an existing namespace).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isKproxyError } from '../../src/core/errors.js';
import { requireNetAdmin, statusHasNetAdmin } from '../../src/runtime/capabilities.js';
import { checkNetnsTarget, type NetnsHost } from '../../src/runtime/netns.js';

const status = (capEff: string): string => `Name:\tnode\nUid:\t0\t0\t0\t0\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\nCapBnd:\t000001ffffffffff\n`;

test('CAP_NET_ADMIN is bit 12 of CapEff', () => {
  assert.equal(statusHasNetAdmin(status('000001ffffffffff')), true, 'full root set');
  assert.equal(statusHasNetAdmin(status('0000000000001000')), true, 'only CAP_NET_ADMIN');
  assert.equal(statusHasNetAdmin(status('0000000000000000')), false, 'no capability');
  assert.equal(statusHasNetAdmin(status('00000000a80425fb')), false, "a container's default set, without NET_ADMIN");
  assert.equal(statusHasNetAdmin(status('00000000a80435fb')), true, 'the same set plus NET_ADMIN');
  assert.equal(statusHasNetAdmin('Name:\tx\n'), null, 'no CapEff line');
});

test('requireNetAdmin names the command and the capability, and passes where it cannot tell', () => {
  assert.throws(
    () => requireNetAdmin('run --proxy-mode iptables', () => status('0000000000000000')),
    (err: unknown) => isKproxyError(err) && err.code === 'E_EXEC' && /^run --proxy-mode iptables needs CAP_NET_ADMIN \(run it as root\)/.test(err.message),
  );
  assert.doesNotThrow(() => requireNetAdmin('cleanup', () => status('0000000000001000')));
  assert.doesNotThrow(() => requireNetAdmin('cleanup', () => 'no status here'));
  assert.doesNotThrow(() =>
    requireNetAdmin('cleanup', () => {
      throw new Error('ENOENT: /proc is not mounted');
    }),
  );
});

test('--netns: a bad name, no root, and a missing namespace are each one clear error', () => {
  const host = (isRoot: boolean, names: readonly string[]): NetnsHost => ({ isRoot, netnsExists: (n) => names.includes(n) });
  const code = (fn: () => void): string => {
    try {
      fn();
    } catch (err) {
      return isKproxyError(err) ? `${err.code}: ${err.message}` : String(err);
    }
    return 'ok';
  };
  assert.equal(code(() => checkNetnsTarget('kpx-abc123-node-1', host(true, ['kpx-abc123-node-1']))), 'ok');
  assert.match(code(() => checkNetnsTarget('kpx-abc123-node-1', host(true, []))), /^E_USAGE: --netns: there is no network namespace "kpx-abc123-node-1" \(see `ip netns list`\)$/);
  assert.match(code(() => checkNetnsTarget('kpx-abc123-node-1', host(false, ['kpx-abc123-node-1']))), /^E_EXEC: --netns kpx-abc123-node-1 needs root/);
  for (const bad of ['', '../etc', 'a/b', '..']) {
    assert.match(code(() => checkNetnsTarget(bad, host(true, [bad]))), /^E_USAGE: --netns: ".*" is not a network namespace name$/, JSON.stringify(bad));
  }
});
