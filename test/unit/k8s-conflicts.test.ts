import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadYaml, only, service } from './k8s-helpers.js';
import type { RawDocument } from '../../src/core/k8s/decode.js';
import { DiagnosticSink, formatDiagnostic } from '../../src/core/model/diagnostics.js';
import type { ClusterObjects, Service } from '../../src/core/model/objects.js';
import { clusterObjectsFromDocuments } from '../../src/runtime/sources/files.js';

function docs(...parts: string[]): string {
  return parts.join('---\n');
}

function svc(objects: ClusterObjects, name: string): Service {
  const s = objects.services.find((x) => x.meta.name === name);
  assert.ok(s, name);
  return s;
}

const np = (name: string, ip: string, ports: string): string => service(name, `type: NodePort\nclusterIP: ${ip}\nports:\n${ports}`);

test('two Services claiming one node port: the one sorting later loses it, whatever the input order', () => {
  for (const order of [
    ['a', 'b'],
    ['b', 'a'],
  ]) {
    const texts: Record<string, string> = {
      a: np('a', '10.0.0.1', '- {port: 80, nodePort: 30080}'),
      b: np('b', '10.0.0.2', '- {port: 53, protocol: UDP, nodePort: 30080}\n- {name: x, port: 81, nodePort: 30081}'),
    };
    const d = loadYaml(docs(...order.map((k) => texts[k] ?? '')));
    assert.equal(svc(d.objects, 'a').ports[0]?.nodePort, 30080);
    assert.deepEqual(svc(d.objects, 'b').ports.map((p) => p.nodePort), [0, 30081]);
    const line = only(d, 'Service default/b: spec.ports[0].nodePort');
    const docOfA = order.indexOf('a') + 1;
    assert.match(
      line,
      new RegExp(
        `^input\\.yaml:document ${order.indexOf('b') + 1}: Service default/b: spec\\.ports\\[0\\]\\.nodePort: error: 30080 is already the node port of Service default/a \\(spec\\.ports\\[0\\]\\.nodePort, input\\.yaml:document ${docOfA}\\): an API server gives a node port to one Service only, whatever the protocol; default/b sorts later and loses it \\(dropped\\)$`,
      ),
    );
  }
});

test('one Service may use one node port for TCP and UDP, but not twice for one protocol', () => {
  const d = loadYaml(np('dns', '10.0.0.3', '- {name: u, port: 53, protocol: UDP, nodePort: 30053}\n- {name: t, port: 53, nodePort: 30053}\n- {name: t2, port: 54, nodePort: 30053}'));
  assert.deepEqual(svc(d.objects, 'dns').ports.map((p) => p.nodePort), [30053, 30053, 0]);
  assert.match(only(d, 'spec.ports[2].nodePort'), /error: 30053 is also the TCP node port of spec\.ports\[1\]\.nodePort of this Service: .*the later port loses it \(dropped\)$/);
});

test('a health-check node port shares the pool with node ports', () => {
  const lb = (name: string, ip: string): string =>
    service(name, `type: LoadBalancer\nclusterIP: ${ip}\nexternalTrafficPolicy: Local\nhealthCheckNodePort: 30100\nports:\n- {port: 80, nodePort: 30200}`);
  // The health-check owner sorts first: the other Service's node port is lost.
  const first = loadYaml(docs(np('zz', '10.0.0.5', '- {port: 80, nodePort: 30100}'), lb('aa', '10.0.0.4')));
  assert.equal(svc(first.objects, 'aa').healthCheckNodePort, 30100);
  assert.equal(svc(first.objects, 'zz').ports[0]?.nodePort, 0);
  assert.match(only(first, 'default/zz'), /spec\.ports\[0\]\.nodePort: error: 30100 is already the node port of Service default\/aa \(spec\.healthCheckNodePort, input\.yaml:document 2\)/);
  // The health-check owner sorts later: it loses its health-check port.
  const later = loadYaml(docs(lb('zz', '10.0.0.4'), np('aa', '10.0.0.5', '- {port: 80, nodePort: 30100}')));
  assert.equal(svc(later.objects, 'zz').healthCheckNodePort, 0);
  assert.equal(svc(later.objects, 'aa').ports[0]?.nodePort, 30100);
  assert.match(only(later, 'spec.healthCheckNodePort'), /^input\.yaml:document 1: Service default\/zz: spec\.healthCheckNodePort: error: 30100 is already the node port of Service default\/aa/);
  // Its own node port is a conflict too; an ignored health-check port (eTP Cluster) is none.
  const own = loadYaml(service('self', 'type: LoadBalancer\nclusterIP: 10.0.0.6\nexternalTrafficPolicy: Local\nhealthCheckNodePort: 30300\nports:\n- {port: 80, nodePort: 30300}'));
  assert.equal(svc(own.objects, 'self').healthCheckNodePort, 0);
  assert.match(only(own, 'spec.healthCheckNodePort'), /of spec\.ports\[0\]\.nodePort of this Service: .*the health check loses it \(dropped\)/);
  const ignored = loadYaml(docs(service('hc', 'type: LoadBalancer\nclusterIP: 10.0.0.7\nhealthCheckNodePort: 30400\nports:\n- {port: 80, nodePort: 30401}'), np('other', '10.0.0.8', '- {port: 80, nodePort: 30400}')));
  assert.equal(svc(ignored.objects, 'other').ports[0]?.nodePort, 30400);
  assert.equal(ignored.diagnostics.filter((x) => x.severity === 'error').length, 0);
});

test('Services kube-proxy does not program (headless, ExternalName) take no node ports', () => {
  const d = loadYaml(docs(service('aaa', 'clusterIP: None\ntype: NodePort\nports:\n- {port: 80, nodePort: 30500}'), np('bbb', '10.0.0.9', '- {port: 80, nodePort: 30500}')));
  assert.equal(svc(d.objects, 'bbb').ports[0]?.nodePort, 30500);
});

test('a shared cluster IP: overlapping ports go to the Service sorting first, others are a warning', () => {
  const d = loadYaml(
    docs(
      service('two', 'clusterIP: 10.0.1.1\nports:\n- {name: a, port: 80}\n- {name: b, port: 443}'),
      service('one', 'clusterIP: 010.000.001.001\nports:\n- {port: 80}'),
      service('three', 'clusterIP: 10.0.1.1\nports:\n- {port: 53, protocol: UDP}'),
    ),
  );
  assert.deepEqual(svc(d.objects, 'one').ports.map((p) => p.port), [80]);
  assert.deepEqual(svc(d.objects, 'two').ports.map((p) => p.port), [443]);
  assert.match(only(d, 'default/two'), /^input\.yaml:document 1: Service default\/two: spec\.ports\[0\]: error: cluster IP 10\.0\.1\.1 port 80\/TCP is already used by Service default\/one \(spec\.ports\[0\], input\.yaml:document 2\): .*default\/two sorts later and loses this port \(dropped\)$/);
  assert.match(only(d, 'default/three'), /Service default\/three: spec\.clusterIP: warning: 10\.0\.1\.1 is also the cluster IP of Service default\/one/);
});

// ---- property: the result never depends on input order ----

interface GenService {
  readonly ns: string;
  readonly name: string;
  readonly ip: string;
  readonly lb: boolean;
  readonly hc: number;
  readonly ports: readonly { readonly port: number; readonly protocol: 'TCP' | 'UDP'; readonly nodePort: number }[];
}

const genService: fc.Arbitrary<GenService> = fc.record({
  ns: fc.constantFrom('a', 'b'),
  name: fc.constantFrom('s0', 's1', 's2', 's3', 's4'),
  ip: fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'),
  lb: fc.boolean(),
  hc: fc.constantFrom(0, 30000, 30001),
  ports: fc.array(
    fc.record({
      port: fc.constantFrom(80, 443),
      protocol: fc.constantFrom('TCP' as const, 'UDP' as const),
      nodePort: fc.constantFrom(0, 30000, 30001, 30002),
    }),
    { minLength: 1, maxLength: 3 },
  ),
});

function toDocuments(services: readonly GenService[]): RawDocument[] {
  const docs: unknown[] = [];
  for (const s of services) {
    docs.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace: s.ns, name: s.name },
      spec: {
        type: s.lb ? 'LoadBalancer' : 'NodePort',
        clusterIP: s.ip,
        selector: { app: s.name },
        ...(s.lb ? { externalTrafficPolicy: 'Local', healthCheckNodePort: s.hc } : {}),
        ports: s.ports.map((p, i) => ({ name: `p${i}`, ...p, targetPort: 'http' })),
      },
    });
    docs.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { namespace: s.ns, name: `${s.name}-pod`, labels: { app: s.name } },
      spec: { containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }] },
      status: { podIP: `10.1.${s.ns === 'a' ? 1 : 2}.${s.name.slice(1)}`, conditions: [{ type: 'Ready', status: 'True' }] },
    });
  }
  return docs.map((value, i) => ({ source: { file: 'gen.yaml', document: i + 1 }, value }));
}

function pipeline(docs: readonly RawDocument[]): { objects: ClusterObjects; diagnostics: string[] } {
  const sink = new DiagnosticSink();
  const objects = clusterObjectsFromDocuments(docs, sink);
  return { objects, diagnostics: sink.all.map(formatDiagnostic).sort() };
}

test('property: shuffling the documents gives the same objects and the same diagnostics', () => {
  const unique = fc.uniqueArray(genService, { minLength: 1, maxLength: 6, selector: (s) => `${s.ns}/${s.name}` });
  fc.assert(
    fc.property(
      unique.chain((services) => {
        const docs = toDocuments(services);
        return fc.tuple(fc.constant(docs), fc.shuffledSubarray(docs, { minLength: docs.length, maxLength: docs.length }));
      }),
      ([docs, shuffled]) => {
        const a = pipeline(docs);
        const b = pipeline(shuffled);
        assert.deepEqual(b.objects, a.objects);
        assert.deepEqual(b.diagnostics, a.diagnostics);
      },
    ),
    { numRuns: 300 },
  );
});

test('property check is not vacuous: generated inputs do produce conflicts', () => {
  const services: GenService[] = [
    { ns: 'a', name: 's1', ip: '10.0.0.1', lb: false, hc: 0, ports: [{ port: 80, protocol: 'TCP', nodePort: 30000 }] },
    { ns: 'a', name: 's2', ip: '10.0.0.1', lb: true, hc: 30001, ports: [{ port: 80, protocol: 'UDP', nodePort: 30000 }] },
  ];
  const { diagnostics } = pipeline(toDocuments(services));
  assert.ok(diagnostics.some((l) => l.includes('a/s2 sorts later and loses it')), diagnostics.join('\n'));
});

test('conflict errors take the place of the losing Service\'s document among the other diagnostics', () => {
  const loser = np('b', '10.0.0.2', '- {port: 80, nodePort: 30080}\n- {name: bad, port: 81, protocol: HTTP}');
  const winner = np('a', '10.0.0.1', '- {port: 80, nodePort: 30080}\n- {name: bad, port: 81, protocol: HTTP}');
  const between = np('m', '10.0.0.3', '- {port: 80, protocol: HTTP}');
  for (const order of [
    [loser, between, winner],
    [winner, between, loser],
  ]) {
    const d = loadYaml(docs(...order));
    const where = d.lines.map((l) => /^input\.yaml:document (\d+): Service default\/(\w+): ([^:]+):/.exec(l)?.slice(1).join(' '));
    const loserDoc = order.indexOf(loser) + 1;
    const winnerDoc = order.indexOf(winner) + 1;
    const expected = [
      [loserDoc, `${loserDoc} b spec.ports[1].protocol`],
      [loserDoc, `${loserDoc} b spec.ports[0].nodePort`],
      [2, '2 m spec.ports[0].protocol'],
      [winnerDoc, `${winnerDoc} a spec.ports[1].protocol`],
    ] as const;
    assert.deepEqual(where, [...expected].sort((x, y) => x[0] - y[0]).map((e) => e[1]), d.lines.join('\n'));
  }
});
