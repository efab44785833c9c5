/**
 * Navigating an untyped decoded YAML/JSON value with the dotted field path kept for
 * diagnostics (`spec.ports[0].nodePort`), and reading scalars without trusting their type.
 */
export interface Field {
  readonly value: unknown;
  /** Dotted path from the object root; "" for the root itself. */
  readonly path: string;
}

export type Read<T> =
  | { readonly kind: 'absent' }
  | { readonly kind: 'ok'; readonly value: T }
  /** Present but of the wrong type; `problem` says what was expected and found. */
  | { readonly kind: 'bad'; readonly problem: string };

const ABSENT = { kind: 'absent' } as const;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function rootField(value: unknown, path = ''): Field {
  return { value, path };
}

export function child(parent: Field, key: string): Field {
  const value = isRecord(parent.value) ? parent.value[key] : undefined;
  return { value, path: parent.path === '' ? key : `${parent.path}.${key}` };
}

function isAbsent(f: Field): boolean {
  return f.value === undefined || f.value === null;
}

export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `the ${typeof value} ${String(value)}`;
  return `a ${typeof value}`;
}

function bad(expected: string, value: unknown): { kind: 'bad'; problem: string } {
  return { kind: 'bad', problem: `must be ${expected}, not ${describe(value)}` };
}

export function readString(f: Field): Read<string> {
  if (isAbsent(f)) return ABSENT;
  return typeof f.value === 'string' ? { kind: 'ok', value: f.value } : bad('a string', f.value);
}

export function readInteger(f: Field): Read<number> {
  if (isAbsent(f)) return ABSENT;
  return typeof f.value === 'number' && Number.isSafeInteger(f.value)
    ? { kind: 'ok', value: f.value }
    : bad('an integer', f.value);
}

export function readBoolean(f: Field): Read<boolean> {
  if (isAbsent(f)) return ABSENT;
  return typeof f.value === 'boolean' ? { kind: 'ok', value: f.value } : bad('true or false', f.value);
}

export function readRecord(f: Field): Read<Record<string, unknown>> {
  if (isAbsent(f)) return ABSENT;
  return isRecord(f.value) ? { kind: 'ok', value: f.value } : bad('a mapping', f.value);
}

/** The elements of a list field, each with its own path (`ports[2]`). */
export function readList(f: Field): Read<Field[]> {
  if (isAbsent(f)) return ABSENT;
  if (!Array.isArray(f.value)) return bad('a list', f.value);
  const items: unknown[] = f.value;
  return { kind: 'ok', value: items.map((value, i) => ({ value, path: `${f.path}[${i}]` })) };
}

/** The entries of a mapping field, sorted by key, each with its own path. */
export function recordEntries(f: Field, record: Record<string, unknown>): [string, Field][] {
  return Object.keys(record)
    .sort()
    .map((key) => [key, { value: record[key], path: `${f.path}[${JSON.stringify(key)}]` }]);
}
