/**
 * The article's example on a real kernel: `kproxy rules --format legacy` restored inside a
 * throwaway network namespace, then `iptables-save | grep nginx` must print the lines the
 * article shows (../shared/ARTICLE.md), up to the order of rules between chains.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { runCommand } from '../../src/runtime/exec/run.js';
import { requireKernel } from '../helpers/e2e.js';
import { repoPath } from '../helpers/paths.js';

/** The lines of `iptables-save | grep nginx` quoted in the article. */
const ARTICLE_LINES = [
  '-A KUBE-SEP-G4A7DIXDTUZ6AHE3 -s 172.18.0.5/32 -m comment --comment "default/nginx:" -j KUBE-MARK-MASQ',
  '-A KUBE-SEP-G4A7DIXDTUZ6AHE3 -p tcp -m comment --comment "default/nginx:" -m tcp -j DNAT --to-destination 172.18.0.5:80',
  '-A KUBE-SEP-J5YCYOGHESVN34H2 -s 172.18.0.6/32 -m comment --comment "default/nginx:" -j KUBE-MARK-MASQ',
  '-A KUBE-SEP-J5YCYOGHESVN34H2 -p tcp -m comment --comment "default/nginx:" -m tcp -j DNAT --to-destination 172.18.0.6:80',
  '-A KUBE-SEP-TPLSNUHWNBT6MT2B -s 172.18.0.7/32 -m comment --comment "default/nginx:" -j KUBE-MARK-MASQ',
  '-A KUBE-SEP-TPLSNUHWNBT6MT2B -p tcp -m comment --comment "default/nginx:" -m tcp -j DNAT --to-destination 172.18.0.7:80',
  '-A KUBE-SERVICES -d 172.18.255.127/32 -p tcp -m comment --comment "default/nginx: cluster IP" -m tcp --dport 80 -j KUBE-SVC-4N57TFCL4MD7ZTDA',
  '-A KUBE-SVC-4N57TFCL4MD7ZTDA -m comment --comment "default/nginx:" -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-G4A7DIXDTUZ6AHE3',
  '-A KUBE-SVC-4N57TFCL4MD7ZTDA -m comment --comment "default/nginx:" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-J5YCYOGHESVN34H2',
  '-A KUBE-SVC-4N57TFCL4MD7ZTDA -m comment --comment "default/nginx:" -j KUBE-SEP-TPLSNUHWNBT6MT2B',
];

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Rules grouped by chain, keeping their order inside each chain. */
function byChain(lines: readonly string[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of lines) {
    const chain = line.split(' ')[1] ?? '';
    map.set(chain, [...(map.get(chain) ?? []), line]);
  }
  return map;
}

test('legacy format restored into a kernel reads back as the article prints it', async (t) => {
  if (!requireKernel(t)) return;
  // Unique even when an earlier run that had this pid was killed before removing its namespace.
  const ns = `kpx-legacy-${process.pid}-${randomBytes(3).toString('hex')}`;
  const rules = await runCommand([
    process.execPath, CLI, 'rules', '--format', 'legacy', '--hostname-override', 'node-1',
    '-f', repoPath('examples/article-nginx-endpoints.yaml'),
  ]);
  assert.equal(rules.stderr, '');
  await runCommand(['ip', 'netns', 'add', ns]);
  try {
    await runCommand(['ip', 'netns', 'exec', ns, 'iptables-restore', '--noflush'], { stdin: rules.stdout });
    const saved = await runCommand(['ip', 'netns', 'exec', ns, 'iptables-save']);
    const nginx = saved.stdout.split('\n').filter((l) => l.includes('nginx'));
    assert.deepEqual(byChain(nginx), byChain(ARTICLE_LINES));
  } finally {
    await runCommand(['ip', 'netns', 'del', ns], { allowFailure: true });
  }
  const left = await runCommand(['ip', 'netns', 'list']);
  assert.ok(!left.stdout.includes(ns), `namespace ${ns} was removed`);
});
