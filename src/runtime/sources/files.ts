/**
 * Kubernetes objects from files: `-f PATH` where PATH is a file, a folder (read recursively:
 * files ending .yaml, .yml or .json, in name order) or `-` for stdin. Each file is a YAML
 * stream (JSON is YAML too), or JSON values one after the other (each a document, as kubectl
 * reads them); a document with a syntax error is reported and skipped, the other documents of
 * the file still load.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { type Document, parseAllDocuments } from 'yaml';
import { compareStrings } from '../../core/compare.js';
import { resolveConflicts } from '../../core/k8s/conflicts.js';
import { type RawDocument, decodeObjects } from '../../core/k8s/decode.js';
import { completeEndpointSlices, type CompletionOptions } from '../../core/k8s/endpoint-slices.js';
import { type Diagnostic, DiagnosticSink, type SourceLocation } from '../../core/model/diagnostics.js';
import type { ClusterObjects } from '../../core/model/objects.js';
import { inputError, readTextInput } from '../io.js';
import { looksLikeJson, positionPadding, splitJsonValues } from './json-stream.js';

const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'];

/** The yaml library's messages end their first line with ":" before a source excerpt. */
function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).trim().replace(/:$/, '');
}

type SyntaxLanguage = 'JSON' | 'YAML';

/** A YAML stream's documents, numbered from `first`; a document with a syntax error is reported and skipped. */
function yamlDocuments(docs: readonly Document.Parsed[], file: string, sink: DiagnosticSink, language: SyntaxLanguage, first = 1): RawDocument[] {
  const out: RawDocument[] = [];
  for (const [i, doc] of docs.entries()) {
    const source = { file, document: first + i };
    const report = (severity: 'error' | 'warning', message: string): void => {
      sink.add({ severity, source, kind: '', object: '', field: '', message });
    };
    const [error, ...moreErrors] = doc.errors;
    if (error !== undefined) {
      const more = moreErrors.length > 0 ? ` (and ${moreErrors.length} more)` : '';
      report('error', `${language} syntax error: ${firstLine(error.message)}${more}; this document is skipped`);
      continue;
    }
    for (const w of doc.warnings) report('warning', `YAML: ${firstLine(w.message)}`);
    try {
      out.push({ source, value: doc.toJS({ maxAliasCount: 100 }) });
    } catch (cause) {
      report('error', `YAML: ${cause instanceof Error ? firstLine(cause.message) : String(cause)}; this document is skipped`);
    }
  }
  return out;
}

function parseYaml(text: string): Document.Parsed[] {
  return parseAllDocuments(text, { merge: true }) as Document.Parsed[];
}

/**
 * JSON text as documents: one value, or several one after the other (concatenated
 * `kubectl get -o json` output), numbered in order. Null when the text is not JSON
 * throughout and reads as YAML instead (flow mappings, JSON documents separated by `---`).
 */
function jsonDocuments(body: string, file: string, sink: DiagnosticSink): RawDocument[] | null {
  // JSON.parse is many times faster than the YAML parser.
  try {
    return [{ source: { file, document: 1 }, value: JSON.parse(body) as unknown }];
  } catch {
    // several values, or not JSON
  }
  const spans = splitJsonValues(body);
  const values = spans.map(({ start, end }): { value: unknown } | null => {
    try {
      return { value: JSON.parse(body.slice(start, end)) as unknown };
    } catch {
      return null;
    }
  });
  if (spans.length > 0 && values.every((v) => v !== null)) {
    return values.map((v, i) => ({ source: { file, document: i + 1 }, value: v.value }));
  }
  if (spans.length < 2) return null;
  const asYaml = parseYaml(body);
  if (asYaml.every((d) => d.errors.length === 0)) return yamlDocuments(asYaml, file, sink, 'YAML');
  // Concatenated values, one of them broken: that one is skipped, the others load. The YAML
  // parser (JSON is YAML) reads the broken one, padded to its place for the line and column.
  return spans.flatMap(({ start, end }, i): RawDocument[] => {
    const parsed = values[i];
    const document = i + 1;
    if (parsed !== undefined && parsed !== null) return [{ source: { file, document }, value: parsed.value }];
    const docs = parseYaml(positionPadding(body, start) + body.slice(start, end));
    // Only the last span (text not starting with a bracket runs to the end) may hold more.
    return yamlDocuments(i === spans.length - 1 ? docs : docs.slice(0, 1), file, sink, 'JSON', document);
  });
}

/** Splits one file's text into documents; `file` is the name diagnostics use. */
export function parseManifestText(text: string, file: string, sink: DiagnosticSink): RawDocument[] {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const isJsonFile = file.endsWith('.json');
  if (isJsonFile || looksLikeJson(body)) {
    const docs = jsonDocuments(body, file, sink);
    if (docs !== null) return docs;
  }
  return yamlDocuments(parseYaml(body), file, sink, isJsonFile ? 'JSON' : 'YAML');
}

export async function readManifestStream(stream: Readable, name: string, sink: DiagnosticSink): Promise<RawDocument[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  }
  return parseManifestText(Buffer.concat(chunks).toString('utf8'), name, sink);
}

/** Manifest files under a folder, walked in name order (symlinked folders once each). */
async function listManifestFiles(dir: string, seen: Set<string>): Promise<string[]> {
  const real = await realpath(dir);
  if (seen.has(real)) return [];
  seen.add(real);
  const names = (await readdir(dir)).sort(compareStrings);
  const files: string[] = [];
  for (const name of names) {
    const full = path.join(dir, name);
    const st = await stat(full).catch(() => null); // a dangling symlink is not a manifest
    if (st === null) continue;
    if (st.isDirectory()) files.push(...(await listManifestFiles(full, seen)));
    else if (st.isFile() && MANIFEST_EXTENSIONS.includes(path.extname(name))) files.push(full);
  }
  return files;
}


export async function readManifestDocuments(paths: readonly string[], sink: DiagnosticSink): Promise<RawDocument[]> {
  const docs: RawDocument[] = [];
  for (const p of paths) {
    if (p === '-') {
      docs.push(...(await readManifestStream(process.stdin, '-', sink)));
      continue;
    }
    const st = await stat(p).catch((cause: unknown) => {
      throw inputError(p, cause);
    });
    const files = st.isDirectory() ? await listManifestFiles(p, new Set()) : [p];
    for (const file of files) docs.push(...parseManifestText(await readTextInput(file), file, sink));
  }
  return docs;
}

/**
 * The diagnostics of decoding and of conflicts (found once all objects are known, in name order)
 * in the order of their documents: a conflict is told where the Service that lost sits.
 */
function inDocumentOrder(docs: readonly RawDocument[], diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const position = new Map<string, number>();
  const key = (at: SourceLocation): string => `${at.document} ${at.file}`;
  for (const [i, doc] of docs.entries()) if (!position.has(key(doc.source))) position.set(key(doc.source), i);
  const rank = (d: Diagnostic): number => position.get(key(d.source)) ?? docs.length;
  return [...diagnostics].sort((a, b) => rank(a) - rank(b)); // stable: a document's own order stays
}

/** Decode → resolve file-only conflicts → add the EndpointSlices controllers would write. */
export function clusterObjectsFromDocuments(docs: readonly RawDocument[], sink: DiagnosticSink, options: CompletionOptions = {}): ClusterObjects {
  const found = new DiagnosticSink();
  const resolved = resolveConflicts(decodeObjects(docs, found), found);
  for (const d of inDocumentOrder(docs, found.all)) sink.add(d);
  return completeEndpointSlices(resolved, sink, options);
}

/** Read, then clusterObjectsFromDocuments: the objects `-f PATH` gives. */
export async function loadClusterObjects(paths: readonly string[], sink: DiagnosticSink, options: CompletionOptions = {}): Promise<ClusterObjects> {
  return clusterObjectsFromDocuments(await readManifestDocuments(paths, sink), sink, options);
}
