/**
 * Where a sandbox keeps its state on disk, and how it is read and written: every file is
 * written to a temporary name and renamed into place (so a reader — the proxy watching the
 * manifests — never sees half a file), and read-modify-write cycles hold a lock directory.
 */
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KproxyError } from '../../core/errors.js';
import { pidIsAlive } from './processes.js';
import { STATE_VERSION, type SandboxState } from './types.js';

export const DEFAULT_STATE_ROOT = '/run/kproxy-sandbox';
/** Global index of runs (id → state dir), so leftovers are recognised whichever root made them. */
export const RUNS_DIR = '/run/kproxy-sandbox-runs';
export const DEFAULT_SANDBOX_NAME = 'default';
const NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;

export function defaultStateRoot(): string {
  return process.env['KPROXY_SANDBOX_DIR'] ?? DEFAULT_STATE_ROOT;
}

/**
 * Sandboxes are made and changed as root only. Without root, the processes and states of other
 * runs look dead or unreadable, so nothing may be removed on that basis.
 */
export function requireRoot(action: string): void {
  if (process.getuid?.() !== 0) {
    throw new KproxyError('E_SANDBOX', `${action} needs root: sandboxes are network namespaces (see docs/sandbox.md)`);
  }
}

export function checkSandboxName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new KproxyError(
      'E_USAGE',
      `sandbox name "${name}" is not valid: use 1-40 lowercase letters, digits and '-' (not at either end)`,
    );
  }
}

export interface SandboxPaths {
  readonly stateDir: string;
  readonly stateFile: string;
  readonly manifestsDir: string;
  /** The one manifest file the proxy reads (`-f` it, or its directory). */
  readonly manifestFile: string;
  readonly logsDir: string;
  readonly tmpDir: string;
  readonly lockDir: string;
}

export function sandboxPaths(stateDir: string): SandboxPaths {
  return {
    stateDir,
    stateFile: path.join(stateDir, 'state.json'),
    manifestsDir: path.join(stateDir, 'manifests'),
    manifestFile: path.join(stateDir, 'manifests', 'cluster.yaml'),
    logsDir: path.join(stateDir, 'logs'),
    tmpDir: path.join(stateDir, 'tmp'),
    lockDir: path.join(stateDir, 'lock'),
  };
}

export async function prepareStateDir(stateDir: string): Promise<SandboxPaths> {
  const paths = sandboxPaths(stateDir);
  for (const dir of [paths.manifestsDir, paths.logsDir, paths.tmpDir]) await mkdir(dir, { recursive: true });
  return paths;
}

let tmpCounter = 0;

/** Writes `text` to `file` atomically: a temporary file in `tmpDir` (same filesystem), then rename. */
export async function writeFileAtomic(file: string, text: string, tmpDir: string): Promise<void> {
  await mkdir(tmpDir, { recursive: true });
  const tmp = path.join(tmpDir, `${path.basename(file)}.${process.pid}.${++tmpCounter}.tmp`);
  await writeFile(tmp, text, { mode: 0o644 });
  await rename(tmp, file);
}

export async function writeState(state: SandboxState): Promise<void> {
  const paths = sandboxPaths(state.stateDir);
  await writeFileAtomic(paths.stateFile, `${JSON.stringify(state, null, 2)}\n`, paths.tmpDir);
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && 'code' in err && err.code === 'ENOENT';
}

/** The state in `stateDir`, or null when there is none. */
export async function readState(stateDir: string): Promise<SandboxState | null> {
  let text: string;
  try {
    text = await readFile(sandboxPaths(stateDir).stateFile, 'utf8');
  } catch (err) {
    if (isNotFound(err)) return null;
    throw new KproxyError('E_SANDBOX', `cannot read the sandbox state in ${stateDir}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new KproxyError('E_SANDBOX', `${sandboxPaths(stateDir).stateFile} is not valid JSON`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || !('version' in parsed) || parsed.version !== STATE_VERSION) {
    throw new KproxyError('E_SANDBOX', `${sandboxPaths(stateDir).stateFile} is not a sandbox state (version ${STATE_VERSION})`);
  }
  // The file is only ever written by writeState from a SandboxState.
  return parsed as SandboxState;
}

/** Names of the sandboxes under `root` that have a state file. */
export async function listStateDirs(root: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
  const out: string[] = [];
  for (const e of entries.sort()) {
    const dir = path.join(root, e);
    if ((await readState(dir).catch(() => null)) !== null) out.push(dir);
  }
  return out;
}

export async function removeStateDir(stateDir: string): Promise<void> {
  await rm(stateDir, { recursive: true, force: true });
}

const LOCK_WAIT_MS = 60_000;
const LOCK_POLL_MS = 25;

async function lockOwner(lockDir: string): Promise<number | null> {
  try {
    const n = Number.parseInt(await readFile(path.join(lockDir, 'pid'), 'utf8'), 10);
    return Number.isInteger(n) ? n : null;
  } catch {
    return null;
  }
}

/** Runs `fn` holding the sandbox's lock (a directory; a dead holder's lock is taken over). */
export async function withStateLock<T>(stateDir: string, fn: () => Promise<T>): Promise<T> {
  const { lockDir } = sandboxPaths(stateDir);
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await mkdir(lockDir);
      await writeFile(path.join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if (!(err instanceof Error && 'code' in err && err.code === 'EEXIST')) throw err;
      const owner = await lockOwner(lockDir);
      if (owner !== null && owner !== process.pid && !pidIsAlive(owner)) {
        await rm(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new KproxyError('E_SANDBOX', `the sandbox in ${stateDir} is locked by pid ${owner ?? '?'}`);
      }
      await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}

export interface RunRecord {
  readonly id: string;
  readonly stateDir: string;
}

export async function registerRun(record: RunRecord): Promise<void> {
  await mkdir(RUNS_DIR, { recursive: true });
  await writeFileAtomic(path.join(RUNS_DIR, `${record.id}.json`), JSON.stringify(record), RUNS_DIR);
}

export async function unregisterRun(id: string): Promise<void> {
  await rm(path.join(RUNS_DIR, `${id}.json`), { force: true });
}

export async function readRunRecord(id: string): Promise<RunRecord | null> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path.join(RUNS_DIR, `${id}.json`), 'utf8'));
    if (typeof parsed === 'object' && parsed !== null && 'stateDir' in parsed && typeof parsed.stateDir === 'string') {
      return { id, stateDir: parsed.stateDir };
    }
    return null;
  } catch {
    return null;
  }
}

export async function listRunIds(): Promise<string[]> {
  try {
    return (await readdir(RUNS_DIR)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}
