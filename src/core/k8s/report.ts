/**
 * Reports diagnostics about one input object: every message names the file, the document,
 * the object's kind and `namespace/name`, and the field concerned.
 */
import type { DiagnosticSink, Severity, SourceLocation } from '../model/diagnostics.js';

export class ObjectReporter {
  constructor(
    private readonly sink: DiagnosticSink,
    readonly source: SourceLocation,
    readonly kind: string,
    readonly object: string,
  ) {}

  /** The same object, now that its name is known. */
  named(object: string): ObjectReporter {
    return new ObjectReporter(this.sink, this.source, this.kind, object);
  }

  report(severity: Severity, field: string, message: string): void {
    this.sink.add({ severity, source: this.source, kind: this.kind, object: this.object, field, message });
  }

  error(field: string, message: string): void {
    this.report('error', field, message);
  }

  warning(field: string, message: string): void {
    this.report('warning', field, message);
  }

  note(field: string, message: string): void {
    this.report('note', field, message);
  }
}

/** `namespace/name`, or `name` for cluster-scoped objects (namespace ""). */
export function objectLabel(namespace: string, name: string): string {
  return namespace === '' ? name : `${namespace}/${name}`;
}

/** A value inside a message: quoted so that control characters and spaces stay visible. */
export function quote(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'a list';
  return 'a mapping';
}
