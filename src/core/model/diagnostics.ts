/**
 * Diagnostics about input objects, and about options. Printed one per line as
 *   file:document N: Kind namespace/name: field.path: severity: what is wrong
 * or, for an option, as `flags: --flag-name: severity: ...` / `CONFIG-FILE: fieldName: severity: ...`
 * (severity first in the message, as compilers print `file:line: warning: ...`).
 * Severity decides the exit status: `error` means something was skipped or lost (exit 1),
 * `warning` means kproxy rendered what kube-proxy would but the API server would have refused
 * or defaulted it, `note` is information (an ignored kind, say).
 */
export type Severity = 'error' | 'warning' | 'note';

export interface SourceLocation {
  /** The file name as given (or `-` for stdin, or a synthetic name such as `api`). */
  readonly file: string;
  /** 1-based index of the YAML/JSON document inside the file. */
  readonly document: number;
  /**
   * The diagnostic is about kproxy's options, not an object: `file` is `flags` (the command
   * line) or the --config file's path, and no document number is printed.
   */
  readonly options?: boolean;
}

export interface Diagnostic {
  readonly severity: Severity;
  readonly source: SourceLocation;
  /** Kind of the object concerned, e.g. `Service`; empty when the object has none. */
  readonly kind: string;
  /** `namespace/name`, or `name` for cluster-scoped objects; empty when unknown. */
  readonly object: string;
  /** Dotted field path inside the object, e.g. `spec.ports[0].nodePort`; empty for the whole object. */
  readonly field: string;
  readonly message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  const parts = [d.source.options === true ? d.source.file : `${d.source.file}:document ${d.source.document}`];
  if (d.kind !== '' || d.object !== '') parts.push([d.kind, d.object].filter((s) => s !== '').join(' '));
  if (d.field !== '') parts.push(d.field);
  parts.push(d.severity, d.message);
  return parts.join(': ');
}

/** Collects diagnostics; passed down through decoding and state building. */
export class DiagnosticSink {
  private readonly items: Diagnostic[] = [];

  add(d: Diagnostic): void {
    this.items.push(d);
  }

  get all(): readonly Diagnostic[] {
    return this.items;
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'error');
  }
}
