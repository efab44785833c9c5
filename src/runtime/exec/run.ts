/**
 * Runs a command (no shell), optionally feeding stdin, and captures stdout, stderr and the exit
 * status. A failure becomes an ExecError (code E_EXEC) that names the command, its exit status,
 * its stderr and, for restore-style tools fed on stdin, the input line they rejected.
 */
import { spawn } from 'node:child_process';
import { KproxyError } from '../../core/errors.js';
import { findFailingLine, type FailingLine } from './failing-line.js';

export interface RunOptions {
  /** Text written to the command's stdin (then closed); stdin is empty when absent. */
  readonly stdin?: string;
  /** Kill the command (SIGKILL) after this many milliseconds; no limit when absent. */
  readonly timeoutMs?: number;
  /** Extra environment variables, merged over the current environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Resolve with the result instead of throwing when the command exits non-zero. */
  readonly allowFailure?: boolean;
}

export interface RunResult {
  readonly argv: readonly string[];
  readonly stdout: string;
  readonly stderr: string;
  /** null when the command was ended by a signal. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ExecErrorDetails {
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly stdout: string;
  /** Set when stdin was given and the tool named the line it failed on. */
  readonly failingLine: FailingLine | null;
  readonly timedOut: boolean;
}

export class ExecError extends KproxyError {
  readonly details: ExecErrorDetails;

  constructor(details: ExecErrorDetails, options?: { cause?: unknown }) {
    super('E_EXEC', describeFailure(details), options);
    this.name = 'ExecError';
    this.details = details;
  }
}

export function isExecError(value: unknown): value is ExecError {
  return value instanceof ExecError;
}

/** Quotes an argument for display (never for a shell). */
function displayArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg);
}

export function formatCommand(argv: readonly string[]): string {
  return argv.map(displayArg).join(' ');
}

function describeFailure(d: ExecErrorDetails): string {
  const status = d.timedOut
    ? 'timed out'
    : d.signal !== null
      ? `was killed by ${d.signal}`
      : d.exitCode === null
        ? 'could not be started'
        : `exited with status ${d.exitCode}`;
  const parts = [`command \`${formatCommand(d.argv)}\` ${status}`];
  const stderr = d.stderr.trim();
  if (stderr !== '') parts.push(`stderr: ${stderr}`);
  if (d.failingLine !== null) {
    const text = d.failingLine.text ?? '(beyond the end of the input)';
    parts.push(`failing input line ${d.failingLine.lineNumber}: ${text}`);
  }
  return parts.join('; ');
}

/** Runs argv[0] with the rest as arguments. Throws ExecError on failure unless allowFailure. */
export function runCommand(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [command, ...args] = argv;
  if (command === undefined) {
    return Promise.reject(new KproxyError('E_INTERNAL', 'runCommand: empty argv'));
  }
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: options.env === undefined ? process.env : { ...process.env, ...options.env },
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    let settled = false;
    const timer =
      options.timeoutMs === undefined
        ? null
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeoutMs);
    const fail = (details: ExecErrorDetails, cause?: unknown): void => {
      if (settled) return;
      settled = true;
      if (timer !== null) clearTimeout(timer);
      reject(new ExecError(details, cause === undefined ? undefined : { cause }));
    };
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    // A command that exits without reading its stdin makes the write fail with EPIPE; the exit
    // status tells the real story, so that error is not worth reporting on its own.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.stdin ?? '');
    child.on('error', (err) => {
      // Only a failure to start is final here; other errors are followed by 'close'.
      if (child.pid !== undefined) return;
      fail(
        {
          argv: [...argv],
          exitCode: null,
          signal: null,
          stderr: err.message,
          stdout: '',
          failingLine: null,
          timedOut: false,
        },
        err,
      );
    });
    child.on('close', (exitCode, signal) => {
      if (settled) return;
      const result: RunResult = {
        argv: [...argv],
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        exitCode,
        signal,
      };
      if (!timedOut && (exitCode === 0 || options.allowFailure === true)) {
        settled = true;
        if (timer !== null) clearTimeout(timer);
        resolve(result);
        return;
      }
      fail({
        argv: result.argv,
        exitCode,
        signal,
        stderr: result.stderr,
        stdout: result.stdout,
        failingLine: options.stdin === undefined ? null : findFailingLine(result.stderr, options.stdin),
        timedOut,
      });
    });
  });
}
