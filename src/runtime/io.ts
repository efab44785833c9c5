/**
 * Reading inputs and writing outputs for every command, with one error format: a missing or
 * unreadable file is a KproxyError (E_INPUT / E_OUTPUT) saying `PATH: no such file or directory`
 * (or what else is wrong), never a raw Node.js stack.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { KproxyError } from '../core/errors.js';

/** The system error's code (ENOENT, EACCES, ...), if it has one. */
function errnoCode(cause: unknown): string {
  return cause instanceof Error && 'code' in cause && typeof cause.code === 'string' ? cause.code : '';
}

/** What went wrong with PATH, in the words of the C library (as cat(1) says it). */
export function describeFileError(path: string, cause: unknown): string {
  switch (errnoCode(cause)) {
    case 'ENOENT':
      return `${path}: no such file or directory`;
    case 'ENOTDIR':
      return `${path}: not a directory`;
    case 'EISDIR':
      return `${path}: is a directory`;
    case 'EACCES':
    case 'EPERM':
      return `${path}: permission denied`;
    default:
      return `${path}: ${cause instanceof Error ? cause.message : String(cause)}`;
  }
}

export function inputError(path: string, cause: unknown): KproxyError {
  return new KproxyError('E_INPUT', describeFileError(path, cause), { cause });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** A file's text, or stdin's for `-`. */
export async function readTextInput(path: string): Promise<string> {
  if (path === '-') return readStdin();
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    throw inputError(path, cause);
  }
}

/** A file's text, synchronously (configuration files read before anything runs). */
export function readTextFileSync(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    throw inputError(path, cause);
  }
}

/** Writes (replaces) a file. */
export function writeTextOutput(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (cause) {
    throw new KproxyError('E_OUTPUT', describeFileError(path, cause), { cause });
  }
}
