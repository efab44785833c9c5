/** The built CLI (dist/src/cli/main.js) in a child process, as a user runs `kproxy ARGS`. */
import { spawnSync } from 'node:child_process';
import { CLI_MAIN } from '../../src/runtime/daemon-process.js';

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runKproxy(args: readonly string[], input = ''): CliResult {
  const r = spawnSync(process.execPath, [CLI_MAIN, ...args], { encoding: 'utf8', input, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
