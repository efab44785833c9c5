import path from 'node:path';

/** Tests run from the repository root (`npm test`); fixtures are found from there. */
export function repoPath(...parts: string[]): string {
  return path.resolve(process.cwd(), ...parts);
}
