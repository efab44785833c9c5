/**
 * Turns parsed YAML/JSON documents into typed API objects (pure). Unknown kinds are noted and
 * ignored, `List` and `*List` objects are unpacked, and each object is decoded by its kind's
 * decoder, which reports what it drops. Of two objects with the same kind, namespace and
 * name, the later one in input order replaces the earlier (as a second `kubectl apply` would).
 */
import type { DiagnosticSink, SourceLocation } from '../model/diagnostics.js';
import type { ApiObject, ClusterObjects } from '../model/objects.js';
import { decodeDeployment } from './deployment.js';
import { decodeEndpoints } from './endpoints.js';
import { type Field, child, describe, isRecord, readList, readString, rootField } from './fields.js';
import { decodeNode } from './node.js';
import { decodePod } from './pod.js';
import { ObjectReporter, objectLabel, quote } from './report.js';
import { decodeService } from './service.js';
import { decodeEndpointSlice } from './slice.js';
import { sortClusterObjects } from './sort.js';

export interface RawDocument {
  readonly source: SourceLocation;
  readonly value: unknown;
}

type Decoder = (root: Field, r: ObjectReporter, source: SourceLocation) => ApiObject | null;

interface KindInfo {
  readonly apiVersion: string;
  readonly namespaced: boolean;
  readonly decode: Decoder;
}

const KINDS: Readonly<Record<string, KindInfo>> = {
  Service: { apiVersion: 'v1', namespaced: true, decode: decodeService },
  Endpoints: { apiVersion: 'v1', namespaced: true, decode: decodeEndpoints },
  Pod: { apiVersion: 'v1', namespaced: true, decode: decodePod },
  Node: { apiVersion: 'v1', namespaced: false, decode: decodeNode },
  EndpointSlice: { apiVersion: 'discovery.k8s.io/v1', namespaced: true, decode: decodeEndpointSlice },
  Deployment: { apiVersion: 'apps/v1', namespaced: true, decode: decodeDeployment },
};

/** What a typed list (`ServiceList`) gives items that do not say their own kind. */
interface ItemDefaults {
  readonly kind: string;
  readonly apiVersion: string;
}

/**
 * A best-effort label for objects that are not decoded; only shown when harmless to print.
 * `namespaced` is unknown (null) for kinds kproxy does not read.
 */
function looseLabel(root: Field, namespaced: boolean | null): string {
  const meta = child(root, 'metadata');
  const name = readString(child(meta, 'name'));
  const ns = readString(child(meta, 'namespace'));
  const safe = (s: string): boolean => /^[A-Za-z0-9._-]{1,253}$/.test(s);
  if (name.kind !== 'ok' || !safe(name.value)) return '';
  if (namespaced === false) return name.value;
  if (ns.kind === 'ok' && safe(ns.value)) return objectLabel(ns.value, name.value);
  return namespaced === true ? objectLabel('default', name.value) : name.value;
}

class Collector {
  private readonly byKey = new Map<string, ApiObject>();

  constructor(private readonly sink: DiagnosticSink) {}

  add(obj: ApiObject): void {
    const key = `${obj.kind}/${obj.meta.namespace}/${obj.meta.name}`;
    const earlier = this.byKey.get(key);
    if (earlier !== undefined) {
      const r = new ObjectReporter(this.sink, obj.meta.source, obj.kind, objectLabel(obj.meta.namespace, obj.meta.name));
      const at = `${earlier.meta.source.file}:document ${earlier.meta.source.document}`;
      r.warning('', `also defined at ${at}; this later definition replaces it`);
      this.byKey.delete(key);
    }
    this.byKey.set(key, obj);
  }

  result(): ClusterObjects {
    const all = [...this.byKey.values()];
    return sortClusterObjects({
      services: all.flatMap((o) => (o.kind === 'Service' ? [o] : [])),
      endpointSlices: all.flatMap((o) => (o.kind === 'EndpointSlice' ? [o] : [])),
      endpoints: all.flatMap((o) => (o.kind === 'Endpoints' ? [o] : [])),
      nodes: all.flatMap((o) => (o.kind === 'Node' ? [o] : [])),
      pods: all.flatMap((o) => (o.kind === 'Pod' ? [o] : [])),
      deployments: all.flatMap((o) => (o.kind === 'Deployment' ? [o] : [])),
    });
  }
}

class Walker {
  constructor(
    private readonly sink: DiagnosticSink,
    private readonly collector: Collector,
  ) {}

  visit(root: Field, source: SourceLocation, defaults: ItemDefaults | null): void {
    const anonymous = new ObjectReporter(this.sink, source, '', '');
    if (!isRecord(root.value)) {
      anonymous.error(root.path, `${describe(root.value)} is not a Kubernetes object; skipped`);
      return;
    }
    const kindField = child(root, 'kind');
    const written = readString(kindField);
    const kind = written.kind === 'ok' && written.value !== '' ? written.value : defaults?.kind;
    if (kind === undefined) {
      const what = written.kind === 'bad' ? written.problem : 'missing';
      anonymous.error(kindField.path, `${what}: not a Kubernetes object; skipped`);
      return;
    }
    const apiField = child(root, 'apiVersion');
    const api = readString(apiField);
    const apiVersion = api.kind === 'ok' && api.value !== '' ? api.value : defaults?.apiVersion;
    if (kind === 'List' || kind.endsWith('List')) {
      this.visitList(root, source, kind, apiVersion ?? '');
      return;
    }
    const known = KINDS[kind];
    const r = new ObjectReporter(this.sink, source, kind, looseLabel(root, known?.namespaced ?? null));
    if (known === undefined) {
      r.note(root.path, `ignored: kproxy does not use kind ${quote(kind)}`);
      return;
    }
    if (apiVersion === undefined) {
      r.warning(apiField.path, `missing; read as ${known.apiVersion}`);
    } else if (apiVersion !== known.apiVersion) {
      r.error(apiField.path, `${quote(apiVersion)} is not supported for kind ${kind} (kproxy reads ${known.apiVersion}); skipped`);
      return;
    }
    const obj = known.decode(root, new ObjectReporter(this.sink, source, kind, ''), source);
    if (obj !== null) this.collector.add(obj);
  }

  private visitList(root: Field, source: SourceLocation, kind: string, apiVersion: string): void {
    const itemsField = child(root, 'items');
    const items = readList(itemsField);
    if (items.kind === 'bad') {
      new ObjectReporter(this.sink, source, kind, '').error(itemsField.path, `${items.problem}; skipped`);
      return;
    }
    const itemKind = kind === 'List' ? null : kind.slice(0, -'List'.length);
    const defaults = itemKind === null ? null : { kind: itemKind, apiVersion };
    for (const item of items.kind === 'ok' ? items.value : []) this.visit(item, source, defaults);
  }
}

export function decodeObjects(docs: readonly RawDocument[], sink: DiagnosticSink): ClusterObjects {
  const collector = new Collector(sink);
  const walker = new Walker(sink, collector);
  for (const doc of docs) {
    // Empty documents (a stray `---`, a comment-only file) are not objects and not errors.
    if (doc.value === null || doc.value === undefined) continue;
    walker.visit(rootField(doc.value), doc.source, null);
  }
  return collector.result();
}
