/** Decoding `metadata`: the identity every diagnostic names, labels, annotations, deletion. */
import type { SourceLocation } from '../model/diagnostics.js';
import type { ObjectMeta } from '../model/objects.js';
import { type Field, child, readRecord, readString, recordEntries } from './fields.js';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain } from './names.js';
import { type ObjectReporter, objectLabel, quote } from './report.js';

/** How the API server validates the name of a kind. */
export type NameRule = 'service' | 'subdomain';

export interface DecodedMeta {
  readonly meta: ObjectMeta;
  /** Reports about this object, now named `namespace/name`. */
  readonly r: ObjectReporter;
}

const SKIPPED = 'the object is skipped';

function decodeName(root: Field, r: ObjectReporter, rule: NameRule): string | null {
  const f = child(child(root, 'metadata'), 'name');
  const name = readString(f);
  if (name.kind === 'bad') {
    r.error(f.path, `${name.problem}; ${SKIPPED}`);
    return null;
  }
  if (name.kind === 'absent' || name.value === '') {
    r.error(f.path, `missing; ${SKIPPED}`);
    return null;
  }
  const valid = rule === 'service' ? isDNS1123Label(name.value) : isDNS1123Subdomain(name.value);
  if (!valid) {
    const expected =
      rule === 'service'
        ? 'a DNS-1123 label: at most 63 lower-case letters, digits and "-"'
        : 'a DNS-1123 subdomain: lower-case letters, digits, "-" and "."';
    r.error(f.path, `${quote(name.value)} is not a valid name (${expected}); ${SKIPPED}`);
    return null;
  }
  if (rule === 'service' && !isDNS1035Label(name.value)) {
    r.warning(f.path, `${quote(name.value)} does not start with a letter: an API server refuses such a Service name`);
  }
  return name.value;
}

function decodeNamespace(root: Field, r: ObjectReporter, namespaced: boolean): string | null {
  if (!namespaced) return '';
  const f = child(child(root, 'metadata'), 'namespace');
  const ns = readString(f);
  if (ns.kind === 'bad') {
    r.error(f.path, `${ns.problem}; ${SKIPPED}`);
    return null;
  }
  if (ns.kind === 'absent' || ns.value === '') return 'default';
  if (!isDNS1123Label(ns.value)) {
    r.error(f.path, `${quote(ns.value)} is not a valid namespace (a DNS-1123 label); ${SKIPPED}`);
    return null;
  }
  return ns.value;
}

/** A string-to-string map (labels, annotations); entries of another type are dropped. */
export function decodeStringMap(f: Field, r: ObjectReporter): Record<string, string> {
  const rec = readRecord(f);
  if (rec.kind === 'bad') {
    r.error(f.path, `${rec.problem} (dropped)`);
    return {};
  }
  if (rec.kind === 'absent') return {};
  const out: Record<string, string> = {};
  for (const [key, entry] of recordEntries(f, rec.value)) {
    if (typeof entry.value === 'string') out[key] = entry.value;
    else if (typeof entry.value === 'number' || typeof entry.value === 'boolean') {
      r.error(entry.path, `must be a string, not the ${typeof entry.value} ${String(entry.value)}: quote it (dropped)`);
    } else r.error(entry.path, `must be a string (dropped)`);
  }
  return out;
}

export function decodeMeta(
  root: Field,
  unnamed: ObjectReporter,
  source: SourceLocation,
  opts: { readonly namespaced: boolean; readonly nameRule: NameRule },
): DecodedMeta | null {
  const metadata = child(root, 'metadata');
  const rec = readRecord(metadata);
  if (rec.kind === 'bad') {
    unnamed.error(metadata.path, `${rec.problem}; ${SKIPPED}`);
    return null;
  }
  const name = decodeName(root, unnamed, opts.nameRule);
  if (name === null) return null;
  const namespace = decodeNamespace(root, unnamed.named(name), opts.namespaced);
  if (namespace === null) return null;
  const r = unnamed.named(objectLabel(namespace, name));
  const deletion = child(metadata, 'deletionTimestamp');
  const ts = readString(deletion);
  if (ts.kind === 'bad') r.error(deletion.path, `${ts.problem} (dropped)`);
  const meta: ObjectMeta = {
    namespace,
    name,
    labels: decodeStringMap(child(metadata, 'labels'), r),
    annotations: decodeStringMap(child(metadata, 'annotations'), r),
    deletionTimestamp: ts.kind === 'ok' && ts.value !== '' ? ts.value : null,
    source,
  };
  return { meta, r };
}
