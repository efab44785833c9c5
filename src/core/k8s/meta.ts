/** Decoding `metadata`: the identity every diagnostic names, labels, annotations, deletion. */
import type { SourceLocation } from '../model/diagnostics.js';
import type { ObjectMeta } from '../model/objects.js';
import { type Field, child, readRecord, readString, recordEntries } from './fields.js';
import { MAX_RULE_NAME_LENGTH, isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isRuleSafeName } from './names.js';
import { type ObjectReporter, objectLabel, quote } from './report.js';

/** How the API server validates the name of a kind. */
export type NameRule = 'service' | 'subdomain';

export interface DecodedMeta {
  readonly meta: ObjectMeta;
  /** Reports about this object, now named `namespace/name`. */
  readonly r: ObjectReporter;
}

const SKIPPED = 'the object is skipped';

/** What the API server's check for a name of this rule expects, for messages. */
function expectedName(rule: NameRule): string {
  return rule === 'service'
    ? 'a DNS-1123 label: at most 63 lower-case letters, digits and "-"'
    : 'a DNS-1123 subdomain: lower-case letters, digits, "-" and "."';
}

/** A name, and the warning to report once the object's full `namespace/name` is known. */
interface DecodedName {
  readonly value: string;
  readonly warning: { readonly field: string; readonly message: string } | null;
}

function refusedButRendered(value: string, what: string): string {
  return `${quote(value)} is not a valid ${what}: an API server refuses it; kube-proxy uses it as it is`;
}

function unsafeName(value: string, what: string, maxLength: number): string {
  return (
    `${quote(value)} is not a valid ${what}, and a name in a rule may only hold letters, digits, ".", "_" and "-" ` +
    `(at most ${maxLength}); ${SKIPPED}`
  );
}

function decodeName(root: Field, r: ObjectReporter, rule: NameRule): DecodedName | null {
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
  const value = name.value;
  const valid = rule === 'service' ? isDNS1123Label(value) : isDNS1123Subdomain(value);
  if (!valid) {
    const what = `name (${expectedName(rule)})`;
    const maxLength = rule === 'service' ? MAX_RULE_NAME_LENGTH : 253;
    if (!isRuleSafeName(value, maxLength)) {
      r.error(f.path, unsafeName(value, what, maxLength));
      return null;
    }
    return { value, warning: { field: f.path, message: refusedButRendered(value, what) } };
  }
  if (rule === 'service' && !isDNS1035Label(value)) {
    return { value, warning: { field: f.path, message: `${quote(value)} does not start with a letter: an API server refuses such a Service name` } };
  }
  return { value, warning: null };
}

function decodeNamespace(root: Field, r: ObjectReporter, name: string, namespaced: boolean): string | null {
  if (!namespaced) return '';
  const f = child(child(root, 'metadata'), 'namespace');
  const ns = readString(f);
  if (ns.kind === 'bad') {
    r.error(f.path, `${ns.problem}; ${SKIPPED}`);
    return null;
  }
  if (ns.kind === 'absent' || ns.value === '') return 'default';
  if (!isDNS1123Label(ns.value)) {
    const what = 'namespace (a DNS-1123 label)';
    if (!isRuleSafeName(ns.value, MAX_RULE_NAME_LENGTH)) {
      r.error(f.path, unsafeName(ns.value, what, MAX_RULE_NAME_LENGTH));
      return null;
    }
    r.named(objectLabel(ns.value, name)).warning(f.path, refusedButRendered(ns.value, what));
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
  const decodedName = decodeName(root, unnamed, opts.nameRule);
  if (decodedName === null) return null;
  const name = decodedName.value;
  const namespace = decodeNamespace(root, unnamed.named(name), name, opts.namespaced);
  if (namespace === null) return null;
  const r = unnamed.named(objectLabel(namespace, name));
  if (decodedName.warning !== null) r.warning(decodedName.warning.field, decodedName.warning.message);
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
