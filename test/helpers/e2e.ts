/**
 * Helpers for tests on the real kernel (all inside sandbox namespaces; see SANDBOX.md).
 * A missing capability (not root, no `ip` / `iptables`) skips the test with the reason — unless
 * KPROXY_E2E=required, where it fails instead.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { decodeObjects } from '../../src/core/k8s/decode.js';
import { DiagnosticSink, formatDiagnostic } from '../../src/core/model/diagnostics.js';
import type { ClusterObjects } from '../../src/core/model/objects.js';
import { onPath } from '../../src/runtime/exec/path.js';
import { runCommand } from '../../src/runtime/exec/run.js';
import { listNetns } from '../../src/runtime/sandbox/netns.js';
import { parseManifestText } from '../../src/runtime/sources/files.js';

export const E2E_REQUIRED = process.env['KPROXY_E2E'] === 'required';

/** Why kernel tests cannot run here, or null when they can. */
export function kernelUnavailableReason(tools: readonly string[] = ['ip', 'iptables', 'iptables-restore']): string | null {
  if (process.platform !== 'linux') return `needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  const missing = tools.filter((t) => !onPath(t));
  if (missing.length > 0) return `needs ${missing.join(', ')} (Debian: iproute2 iptables)`;
  return null;
}

/**
 * Returns true when the kernel tests can run. Otherwise skips `t` with the reason and returns
 * false — or, under KPROXY_E2E=required, fails.
 */
export function requireKernel(t: TestContext, tools?: readonly string[]): boolean {
  const reason = kernelUnavailableReason(tools);
  if (reason === null) return true;
  if (E2E_REQUIRED) assert.fail(`KPROXY_E2E=required but the kernel tests cannot run: ${reason}`);
  t.skip(reason);
  return false;
}

/** Test-file-level variant for `describe(..., { skip: kernelSkip() })`; throws under KPROXY_E2E=required. */
export function kernelSkip(tools?: readonly string[]): string | false {
  const reason = kernelUnavailableReason(tools);
  if (reason === null) return false;
  if (E2E_REQUIRED) throw new Error(`KPROXY_E2E=required but the kernel tests cannot run: ${reason}`);
  return reason;
}

/** Decodes manifest text (YAML / JSON) the way `-f` does; fails the test on error diagnostics. */
export function objectsFromYaml(text: string, file = 'inline.yaml'): ClusterObjects {
  const sink = new DiagnosticSink();
  const objects = decodeObjects(parseManifestText(text, file, sink), sink);
  const errors = sink.all.filter((d) => d.severity === 'error' && !d.message.startsWith('not set'));
  assert.deepEqual(errors.map(formatDiagnostic), [], 'the test manifests decode without errors');
  return objects;
}

/** A private state root for one test file (so parallel files never see each other's sandboxes). */
export async function tempStateRoot(): Promise<{ root: string; remove: () => Promise<void> }> {
  const root = await mkdtemp(path.join(tmpdir(), 'kproxy-sandbox-test-'));
  return { root, remove: () => rm(root, { recursive: true, force: true }) };
}

/** Interface names in the root namespace (read only). */
export async function rootInterfaceNames(): Promise<string[]> {
  const { stdout } = await runCommand(['ip', '-o', 'link', 'show']);
  return stdout
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '')
    .filter((n) => n !== '');
}

/** True when `pid` exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Asserts that nothing of sandbox run `id` is left: namespaces, root interfaces, processes. */
export async function assertRunGone(id: string, pids: readonly number[]): Promise<void> {
  const netns = (await listNetns()).filter((n) => n.startsWith(`kpx-${id}-`));
  assert.deepEqual(netns, [], `no namespace of run ${id} is left`);
  const links = (await rootInterfaceNames()).filter((n) => n.startsWith(`kpx${id}`));
  assert.deepEqual(links, [], `no interface of run ${id} is left in the root namespace`);
  const deadline = Date.now() + 3000;
  let alive = pids.filter(pidAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    alive = alive.filter(pidAlive);
  }
  assert.deepEqual(alive, [], `no process of run ${id} is left`);
}
