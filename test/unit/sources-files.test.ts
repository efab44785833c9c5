import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { repoPath } from '../helpers/paths.js';
import { loadClusterObjects, parseManifestText, readManifestDocuments, readManifestStream } from '../../src/runtime/sources/files.js';
import { DiagnosticSink, formatDiagnostic } from '../../src/core/model/diagnostics.js';
import { isKproxyError } from '../../src/core/errors.js';

const FIXTURES = repoPath('test/fixtures/input');

test('a folder is read recursively in name order, only .yaml/.yml/.json files', async () => {
  const sink = new DiagnosticSink();
  const root = path.join(FIXTURES, 'tree');
  const docs = await readManifestDocuments([root], sink);
  assert.deepEqual(
    docs.map((d) => `${path.relative(root, d.source.file)}#${d.source.document}`),
    ['10-services.yaml#1', '10-services.yaml#2', 'a/one.yaml#1', 'a-b/two.yaml#1', 'sub/20-slice.yml#1', 'sub/30-pod.json#1', 'sub/deeper/40-more.yaml#1'],
  );
  assert.deepEqual(sink.all, []);
});

test('loading a folder: decode, conflicts, derived slices (JSON Pod behind a YAML Service)', async () => {
  const sink = new DiagnosticSink();
  const root = path.join(FIXTURES, 'tree');
  const objects = await loadClusterObjects([root], sink);
  assert.deepEqual(objects.services.map((s) => s.meta.name), ['alpha', 'beta', 'in-a', 'in-a-b']);
  const beta = objects.endpointSlices.filter((s) => s.serviceName === 'beta');
  assert.equal(beta.length, 1);
  assert.equal(beta[0]?.origin, 'pods');
  assert.deepEqual(beta[0].ports, [{ name: '', port: 9000, protocol: 'TCP' }]);
  assert.deepEqual(beta[0].endpoints.map((e) => e.addresses), [['10.244.0.20']]);
  assert.deepEqual(sink.all.map(formatDiagnostic), [`${path.join(root, 'sub/deeper/40-more.yaml')}:document 1: ConfigMap tree/settings: note: ignored: kproxy does not use kind "ConfigMap"`]);
});

test('a YAML syntax error names file and document; the other documents of the file still load', async () => {
  const sink = new DiagnosticSink();
  const file = path.join(FIXTURES, 'broken.yaml');
  const objects = await loadClusterObjects([file], sink);
  assert.deepEqual(objects.services.map((s) => s.meta.name), ['after', 'before']);
  assert.equal(sink.all.length, 1);
  const line = formatDiagnostic(sink.all[0] ?? assert.fail('no diagnostic'));
  assert.ok(line.startsWith(`${file}:document 2: error: YAML syntax error: `), line);
  assert.match(line, /at line \d+, column \d+.*; this document is skipped$/);
  assert.doesNotMatch(line, /\n/);
});

test('JSON files and kind List', async () => {
  const sink = new DiagnosticSink();
  const objects = await loadClusterObjects([path.join(FIXTURES, 'list.json')], sink);
  assert.deepEqual(objects.services.map((s) => [s.meta.namespace, s.meta.name, s.type, s.ports[0]?.nodePort]), [['json', 'from-json', 'NodePort', 30443]]);
  assert.deepEqual(sink.all, []);
});

test('several paths are read in the order given', async () => {
  const sink = new DiagnosticSink();
  const docs = await readManifestDocuments([path.join(FIXTURES, 'list.json'), path.join(FIXTURES, 'tree', 'a', 'one.yaml')], sink);
  assert.deepEqual(docs.map((d) => path.basename(d.source.file)), ['list.json', 'one.yaml']);
});

test('a missing path is an E_INPUT error naming the path', async () => {
  const missing = path.join(FIXTURES, 'does-not-exist.yaml');
  await assert.rejects(readManifestDocuments([missing], new DiagnosticSink()), (err: unknown) => {
    assert.ok(isKproxyError(err));
    assert.equal(err.code, 'E_INPUT');
    assert.equal(err.message, `${missing}: no such file or directory`);
    return true;
  });
});

test('a stream (stdin) is read as a YAML stream named as given', async () => {
  const sink = new DiagnosticSink();
  const text = 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIP: 10.0.0.1, ports: [{port: 80}]}\n---\nkind: Nope\n';
  const docs = await readManifestStream(Readable.from([Buffer.from(text.slice(0, 20)), text.slice(20)]), '-', sink);
  assert.deepEqual(docs.map((d) => d.source), [
    { file: '-', document: 1 },
    { file: '-', document: 2 },
  ]);
});

test('"-" reads stdin (in a child process)', async () => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const files = new URL(`file://${path.resolve(here, '../../src/runtime/sources/files.js')}`).href;
  const diag = new URL(`file://${path.resolve(here, '../../src/core/model/diagnostics.js')}`).href;
  const script = `
    const { loadClusterObjects } = await import(${JSON.stringify(files)});
    const { DiagnosticSink, formatDiagnostic } = await import(${JSON.stringify(diag)});
    const sink = new DiagnosticSink();
    const o = await loadClusterObjects(['-'], sink);
    console.log(JSON.stringify({ services: o.services.map((s) => s.meta.name), diagnostics: sink.all.map(formatDiagnostic) }));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.end('apiVersion: v1\nkind: Service\nmetadata: {name: from-stdin}\nspec: {clusterIP: 10.0.0.1, ports: [{port: 80, protocol: HTTP}]}\n');
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0);
  assert.deepEqual(JSON.parse(out), {
    services: ['from-stdin'],
    diagnostics: ['-:document 1: Service default/from-stdin: spec.ports[0].protocol: error: "HTTP" is not a supported protocol (TCP, UDP or SCTP); spec.ports[0] is dropped'],
  });
});

test('JSON: read directly when valid, a syntax error gives line and column', () => {
  const sink = new DiagnosticSink();
  assert.deepEqual(parseManifestText('{"kind": "Service", "spec": {"ports": [1, 2]}}', 'ok.json', sink), [
    { source: { file: 'ok.json', document: 1 }, value: { kind: 'Service', spec: { ports: [1, 2] } } },
  ]);
  assert.deepEqual(parseManifestText('{"a": 1,\n "b": [1, 2}\n', 'bad.json', sink), []);
  assert.equal(sink.all.length, 1);
  assert.match(formatDiagnostic(sink.all[0] ?? assert.fail('no diagnostic')), /^bad\.json:document 1: error: JSON syntax error: .* at line 2, column \d+.*; this document is skipped$/);
});

const svcJson = (name: string): string => JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { clusterIP: '10.0.0.1', ports: [{ port: 80 }] } });

test('concatenated JSON objects (kubectl get -o json, one after the other) are one document each', () => {
  for (const [separator, file] of [['', 'all.json'], ['\n', 'all.json'], ['\r\n\n  \t', 'all.json'], ['\n', '-'], ['', 'objects.yaml']] as const) {
    const sink = new DiagnosticSink();
    const text = [svcJson('a'), JSON.stringify({ kind: 'List', items: [JSON.parse(svcJson('b'))] }), svcJson('c')].join(separator);
    const docs = parseManifestText(`${text}\n`, file, sink);
    assert.deepEqual(sink.all.map(formatDiagnostic), [], JSON.stringify(separator));
    assert.deepEqual(docs.map((d) => d.source), [1, 2, 3].map((document) => ({ file, document })));
    assert.deepEqual(docs.map((d) => (d.value as { kind: string }).kind), ['Service', 'List', 'Service']);
  }
});

test('concatenated JSON: braces and quotes inside strings do not split a document', () => {
  const sink = new DiagnosticSink();
  const tricky = JSON.stringify({ kind: 'Service', metadata: { name: 'x', annotations: { a: '}{"', b: '\\"}' } } });
  const docs = parseManifestText(`${tricky}${tricky}`, 'x.json', sink);
  assert.deepEqual(sink.all, []);
  assert.deepEqual(docs.map((d) => d.value), [JSON.parse(tricky), JSON.parse(tricky)]);
});

test('concatenated JSON with a syntax error: that document is skipped, named with its line; the others load', () => {
  for (const file of ['all.json', '-']) {
    const sink = new DiagnosticSink();
    const text = `${svcJson('a')}\n{"kind": "Service",\n "metadata": {"name": "b"}\n "spec": {}}\n${svcJson('c')}\n`;
    const docs = parseManifestText(text, file, sink);
    assert.deepEqual(docs.map((d) => d.source.document), [1, 3], file);
    assert.equal(sink.all.length, 1);
    const line = formatDiagnostic(sink.all[0] ?? assert.fail('no diagnostic'));
    assert.match(line, new RegExp(`^${file === '-' ? '-' : 'all\\.json'}:document 2: error: JSON syntax error: .* at line 4, column \\d+.*; this document is skipped$`), line);
  }
});

test('JSON-looking YAML stays YAML: flow mappings, and JSON documents separated by ---', () => {
  const sink = new DiagnosticSink();
  assert.deepEqual(parseManifestText('{kind: Service, metadata: {name: a}}\n', 'flow.yaml', sink).map((d) => d.value), [{ kind: 'Service', metadata: { name: 'a' } }]);
  assert.deepEqual(parseManifestText('{"kind": "Pod"}\n---\n{"kind": "Node"}\n', 'dashes.json', sink).map((d) => [d.source.document, d.value]), [
    [1, { kind: 'Pod' }],
    [2, { kind: 'Node' }],
  ]);
  assert.deepEqual(sink.all, []);
});
