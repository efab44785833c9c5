/** Shared by the k8s-* tests: decode YAML text the way `-f file` does, and look at diagnostics. */
import { decodeObjects } from '../../src/core/k8s/decode.js';
import { DiagnosticSink, formatDiagnostic, type Diagnostic } from '../../src/core/model/diagnostics.js';
import type { ClusterObjects } from '../../src/core/model/objects.js';
import { clusterObjectsFromDocuments, parseManifestText } from '../../src/runtime/sources/files.js';

export interface Decoded {
  readonly objects: ClusterObjects;
  readonly diagnostics: readonly Diagnostic[];
  /** Every diagnostic as printed. */
  readonly lines: readonly string[];
}

function finish(objects: ClusterObjects, sink: DiagnosticSink): Decoded {
  return { objects, diagnostics: sink.all, lines: sink.all.map(formatDiagnostic) };
}

/** Decode only (no conflict resolution, no derived slices). */
export function decodeYaml(text: string, file = 'input.yaml'): Decoded {
  const sink = new DiagnosticSink();
  return finish(decodeObjects(parseManifestText(text, file, sink), sink), sink);
}

/** The whole pipeline loadClusterObjects runs, on text. */
export function loadYaml(text: string, file = 'input.yaml'): Decoded {
  const sink = new DiagnosticSink();
  return finish(clusterObjectsFromDocuments(parseManifestText(text, file, sink), sink), sink);
}

/** The one printed diagnostic containing `part`; fails (throws) when there is not exactly one. */
export function only(d: Decoded, part: string): string {
  const found = d.lines.filter((l) => l.includes(part));
  if (found.length !== 1) {
    throw new Error(`expected exactly one diagnostic containing ${JSON.stringify(part)}, got:\n${d.lines.join('\n')}`);
  }
  return found[0] ?? '';
}

/** A minimal valid Service document; `spec` lines are indented under spec:. */
export function service(name: string, specLines: string, extra = ''): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: default
${extra}spec:
${specLines
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => `  ${l}`)
  .join('\n')}
`;
}
