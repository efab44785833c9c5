/**
 * Kubernetes objects from files: `-f PATH` where PATH is a file, a folder (read recursively:
 * files ending .yaml, .yml or .json, in name order) or `-` for stdin. Each file is a YAML
 * stream (JSON is YAML too); a document with a syntax error is reported and skipped, the other
 * documents of the file still load.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { parseAllDocuments } from 'yaml';
import { compareStrings } from '../../core/compare.js';
import { resolveConflicts } from '../../core/k8s/conflicts.js';
import { type RawDocument, decodeObjects } from '../../core/k8s/decode.js';
import { completeEndpointSlices, type CompletionOptions } from '../../core/k8s/endpoint-slices.js';
import type { DiagnosticSink } from '../../core/model/diagnostics.js';
import type { ClusterObjects } from '../../core/model/objects.js';
import { inputError, readTextInput } from '../io.js';

const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'];

/** The yaml library's messages end their first line with ":" before a source excerpt. */
function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).trim().replace(/:$/, '');
}

/** Splits one file's text into documents; `file` is the name diagnostics use. */
export function parseManifestText(text: string, file: string, sink: DiagnosticSink): RawDocument[] {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (file.endsWith('.json')) {
    // JSON.parse is many times faster than the YAML parser; on a syntax error the YAML
    // parser (JSON is YAML) runs instead, for its line and column in the message.
    try {
      return [{ source: { file, document: 1 }, value: JSON.parse(body) as unknown }];
    } catch {
      // fall through
    }
  }
  const out: RawDocument[] = [];
  for (const [i, doc] of parseAllDocuments(body, { merge: true }).entries()) {
    const source = { file, document: i + 1 };
    const report = (severity: 'error' | 'warning', message: string): void => {
      sink.add({ severity, source, kind: '', object: '', field: '', message });
    };
    const [error, ...moreErrors] = doc.errors;
    if (error !== undefined) {
      const more = moreErrors.length > 0 ? ` (and ${moreErrors.length} more)` : '';
      const language = file.endsWith('.json') ? 'JSON' : 'YAML';
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

/** Decode → resolve file-only conflicts → add the EndpointSlices controllers would write. */
export function clusterObjectsFromDocuments(docs: readonly RawDocument[], sink: DiagnosticSink, options: CompletionOptions = {}): ClusterObjects {
  return completeEndpointSlices(resolveConflicts(decodeObjects(docs, sink), sink), sink, options);
}

/** Read, then clusterObjectsFromDocuments: the objects `-f PATH` gives. */
export async function loadClusterObjects(paths: readonly string[], sink: DiagnosticSink, options: CompletionOptions = {}): Promise<ClusterObjects> {
  return clusterObjectsFromDocuments(await readManifestDocuments(paths, sink), sink, options);
}
