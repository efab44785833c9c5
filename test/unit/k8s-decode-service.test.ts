import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeYaml, only, service } from './k8s-helpers.js';
import type { Service } from '../../src/core/model/objects.js';

const GOOD = service('good', 'clusterIP: 10.0.0.1\nports:\n- port: 80');

function docs(...parts: string[]): string {
  return parts.join('---\n');
}

function svc(d: ReturnType<typeof decodeYaml>, name: string): Service {
  const s = d.objects.services.find((x) => x.meta.name === name);
  assert.ok(s, `Service ${name} decoded`);
  return s;
}

test('API-server defaults are applied silently', () => {
  const d = decodeYaml(service('web', 'clusterIP: 10.0.0.1\nsessionAffinity: ClientIP\nports:\n- name: http\n  port: 80\n- name: dns\n  port: 53\n  protocol: UDP\n  targetPort: 5353'));
  assert.deepEqual(d.lines, []);
  const s = svc(d, 'web');
  assert.equal(s.type, 'ClusterIP');
  assert.deepEqual(s.clusterIPs, ['10.0.0.1']);
  assert.deepEqual(s.ipFamilies, ['IPv4']);
  assert.equal(s.sessionAffinity, 'ClientIP');
  assert.equal(s.sessionAffinityTimeoutSeconds, 10800);
  assert.equal(s.externalTrafficPolicy, 'Cluster');
  assert.equal(s.internalTrafficPolicy, 'Cluster');
  assert.equal(s.healthCheckNodePort, 0);
  assert.equal(s.publishNotReadyAddresses, false);
  assert.equal(s.selector, null);
  assert.deepEqual(
    s.ports.map((p) => [p.name, p.protocol, p.port, p.targetPort, p.nodePort]),
    [
      ['http', 'TCP', 80, 80, 0],
      ['dns', 'UDP', 53, 5353, 0],
    ],
  );
});

test('clusterIP is defaulted from clusterIPs and ipFamilies from the addresses (dual stack)', () => {
  const d = decodeYaml(service('ds', 'clusterIPs: [fd00::10, 10.0.0.10]\nports:\n- port: 80'));
  assert.deepEqual(d.lines, []);
  const s = svc(d, 'ds');
  assert.equal(s.clusterIP, 'fd00::10');
  assert.deepEqual(s.ipFamilies, ['IPv6', 'IPv4']);
});

test('type "" and an unknown type are warnings, treated as ClusterIP; eTP Local then does not apply', () => {
  const d = decodeYaml(
    docs(
      service('empty', 'type: ""\nclusterIP: 10.0.0.2\nexternalIPs: [192.0.2.1]\nexternalTrafficPolicy: Local\nports:\n- port: 80'),
      service('odd', 'type: Fancy\nclusterIP: 10.0.0.3\nports:\n- port: 80'),
    ),
  );
  assert.match(only(d, 'default/empty: spec.type'), /^input\.yaml:document 1: Service default\/empty: spec\.type: warning: empty: .*ClusterIP/);
  assert.match(only(d, 'default/odd'), /^input\.yaml:document 2: Service default\/odd: spec\.type: warning: "Fancy" is not a Service type/);
  assert.match(only(d, 'externalTrafficPolicy'), /Service default\/empty: spec\.externalTrafficPolicy: warning: Local is ignored/);
  assert.equal(svc(d, 'empty').type, 'ClusterIP');
  assert.equal(svc(d, 'empty').externalTrafficPolicy, 'Cluster');
  assert.equal(svc(d, 'odd').type, 'ClusterIP');
});

test('node ports the API server would refuse are warnings and kept as kube-proxy uses them', () => {
  const d = decodeYaml(
    docs(
      service('np', 'type: NodePort\nclusterIP: 10.0.0.4\nports:\n- name: a\n  port: 80\n  nodePort: 3001\n- name: b\n  port: 81'),
      service('cip', 'clusterIP: 10.0.0.5\nports:\n- port: 80\n  nodePort: 30080'),
    ),
  );
  assert.match(only(d, 'np: spec.ports[0].nodePort'), /^input\.yaml:document 1: Service default\/np: spec\.ports\[0\]\.nodePort: warning: 3001 is outside the default node-port range/);
  assert.match(only(d, 'np: spec.ports[1].nodePort'), /Service default\/np: spec\.ports\[1\]\.nodePort: warning: not set: an API server would allocate one/);
  assert.match(only(d, 'default/cip'), /^input\.yaml:document 2: Service default\/cip: spec\.ports\[0\]\.nodePort: warning: set on a Service of type ClusterIP/);
  assert.deepEqual(svc(d, 'np').ports.map((p) => p.nodePort), [3001, 0]);
  assert.equal(svc(d, 'cip').ports[0]?.nodePort, 30080);
});

test('unparsable external IPs and source ranges are dropped with an error; the rest is kept', () => {
  const d = decodeYaml(
    docs(
      service(
        'lb',
        'type: LoadBalancer\nclusterIP: 10.0.0.6\nexternalIPs: [192.0.2.1, "1.2.3", "", 010.001.0.1]\nloadBalancerSourceRanges: [" 203.0.113.000/025", "10.0.0.0/33", "  "]\nports:\n- port: 80\n  nodePort: 30001',
      ),
      GOOD,
    ),
  );
  assert.match(only(d, 'spec.externalIPs[1]'), /^input\.yaml:document 1: Service default\/lb: spec\.externalIPs\[1\]: error: "1\.2\.3" is not an IP address \(dropped\)$/);
  assert.match(only(d, 'spec.externalIPs[2]'), /Service default\/lb: spec\.externalIPs\[2\]: warning: empty; ignored/);
  assert.match(only(d, 'spec.loadBalancerSourceRanges[1]'), /Service default\/lb: spec\.loadBalancerSourceRanges\[1\]: error: "10\.0\.0\.0\/33" is not a CIDR \(dropped\)$/);
  assert.match(only(d, 'spec.loadBalancerSourceRanges[2]'), /warning: empty; ignored/);
  const lb = svc(d, 'lb');
  assert.deepEqual(lb.externalIPs, ['192.0.2.1', '010.001.0.1']);
  assert.deepEqual(lb.loadBalancerSourceRanges, ['203.0.113.000/025']);
  assert.ok(svc(d, 'good'));
  assert.equal(d.diagnostics.filter((x) => x.severity === 'error').length, 2);
});

test('load-balancer ingress: bad IPs dropped, ipMode kept, unknown ipMode read as not-VIP', () => {
  const text = `${service('lb2', 'type: LoadBalancer\nclusterIP: 10.0.0.7\nports:\n- port: 80\n  nodePort: 30002')}status:
  loadBalancer:
    ingress:
    - ip: 1.2.3.4
    - ip: 5.6.7.8
      ipMode: Proxy
    - ip: lb.example.com
    - ip: 9.9.9.9
      ipMode: Direct
    - hostname: lb.example.com
`;
  const d = decodeYaml(text);
  assert.match(only(d, 'ingress[2].ip'), /Service default\/lb2: status\.loadBalancer\.ingress\[2\]\.ip: error: "lb\.example\.com" is not an IP address \(dropped\)/);
  assert.match(only(d, 'ingress[3].ipMode'), /warning: "Direct" is not VIP or Proxy: kube-proxy only programs/);
  assert.deepEqual(svc(d, 'lb2').loadBalancerIngress, [
    { ip: '1.2.3.4', hostname: '', ipMode: null },
    { ip: '5.6.7.8', hostname: '', ipMode: 'Proxy' },
    { ip: '9.9.9.9', hostname: '', ipMode: 'Proxy' },
    { ip: '', hostname: 'lb.example.com', ipMode: null },
  ]);
});

test('a cluster IP kube-proxy cannot use skips the Service; the other documents still decode', () => {
  const d = decodeYaml(
    docs(
      service('bad-ip', 'clusterIP: 10.0.0.300\nports:\n- port: 80'),
      service('wrong-family', 'clusterIPs: [fd00::1]\nipFamilies: [IPv4]\nports:\n- port: 80'),
      service('no-ip', 'ports:\n- port: 80'),
      service('headless', 'clusterIP: None\nports:\n- port: 80'),
      GOOD,
    ),
  );
  assert.match(only(d, 'default/bad-ip'), /^input\.yaml:document 1: Service default\/bad-ip: spec\.clusterIP: error: "10\.0\.0\.300" is not an IP address.*skipped$/);
  assert.match(only(d, 'default/wrong-family'), /^input\.yaml:document 2: Service default\/wrong-family: spec\.clusterIPs\[0\]: error: "fd00::1" is an IPv6 address but spec\.ipFamilies\[0\] is IPv4/);
  assert.match(only(d, 'default/no-ip'), /^input\.yaml:document 3: Service default\/no-ip: spec\.clusterIP: error: not set: kproxy cannot allocate/);
  assert.deepEqual(
    d.objects.services.map((s) => s.meta.name),
    ['good', 'headless', 'no-ip'],
  );
  assert.equal(svc(d, 'headless').clusterIP, 'None');
});

test('ports kube-proxy cannot use are dropped with an error naming the port', () => {
  const d = decodeYaml(
    service(
      'ports',
      `clusterIP: 10.0.0.8
ports:
- {name: a, port: 80, protocol: HTTP}
- {name: b, port: 0}
- {name: c, port: "81"}
- {name: d, port: 70000}
- {name: "e f", port: 82}
- {name: "g:h", port: 83}
- {name: h, port: 84, protocol: tcp}
- {name: ok, port: 85}
- "not a port"`,
    ),
  );
  const expect: [string, RegExp][] = [
    ['spec.ports[0].protocol', /error: "HTTP" is not a supported protocol \(TCP, UDP or SCTP\); spec\.ports\[0\] is dropped$/],
    ['spec.ports[1].port', /error: 0 is not a port number \(1-65535\); spec\.ports\[1\] is dropped$/],
    ['spec.ports[2].port', /error: must be an integer, not the string "81"; spec\.ports\[2\] is dropped$/],
    ['spec.ports[3].port', /error: 70000 is not a port number/],
    ['spec.ports[4].name', /error: "e f" is not a valid port name \(a DNS-1123 label\), and a name in a rule may only hold .*; spec\.ports\[4\] is dropped$/],
    ['spec.ports[5].name', /error: "g:h" is not a valid port name/],
    ['spec.ports[6].protocol', /error: "tcp" is not a supported protocol/],
    ['spec.ports[8]', /error: must be a mapping, not the string "not a port"; it is dropped$/],
  ];
  for (const [field, re] of expect) {
    const line = only(d, `${field}:`);
    assert.ok(line.startsWith(`input.yaml:document 1: Service default/ports: ${field}: `), line);
    assert.match(line, re);
  }
  assert.deepEqual(svc(d, 'ports').ports.map((p) => [p.name, p.index]), [['ok', 7]]);
});

test('two ports with the same name and protocol: kube-proxy keeps the later one', () => {
  const d = decodeYaml(service('dup', 'clusterIP: 10.0.0.9\nports:\n- {port: 80}\n- {port: 443}\n- {port: 53, protocol: UDP}'));
  assert.match(only(d, 'spec.ports[0]:'), /error: has the same name "" and protocol TCP as spec\.ports\[1\]: kube-proxy keeps only the later one/);
  assert.match(only(d, 'spec.ports[1].name'), /warning: not set: an API server requires every port of a multi-port Service to be named/);
  assert.deepEqual(svc(d, 'dup').ports.map((p) => p.port), [443, 53]);
});

test('names that could break a rule line are refused: the object is skipped, never passed through', () => {
  const bad = ['"web server"', '"we\\"b"', '"x\\ny"', '"a:b"', '"a/b"', `"${'a'.repeat(64)}"`];
  const d = decodeYaml(docs(...bad.map((n) => service(n, 'clusterIP: 10.0.0.10\nports:\n- port: 80')), GOOD));
  assert.deepEqual(d.objects.services.map((s) => s.meta.name), ['good']);
  const errors = d.diagnostics.filter((x) => x.severity === 'error');
  assert.equal(errors.length, bad.length);
  for (const [i, e] of errors.entries()) {
    assert.equal(e.source.document, i + 1);
    assert.equal(e.kind, 'Service');
    assert.equal(e.object, '');
    assert.equal(e.field, 'metadata.name');
    assert.match(e.message, /is not a valid name \(a DNS-1123 label.*the object is skipped$/);
    assert.doesNotMatch(e.message, /\n/);
  }
  const ns = decodeYaml(service('ok', 'clusterIP: 10.0.0.11\nports:\n- port: 80').replace('namespace: default', 'namespace: "my ns"'));
  assert.match(only(ns, 'metadata.namespace'), /^input\.yaml:document 1: Service ok: metadata\.namespace: error: "my ns" is not a valid namespace/);
  assert.equal(ns.objects.services.length, 0);
  const digit = decodeYaml(service('1st', 'clusterIP: 10.0.0.12\nports:\n- port: 80'));
  assert.match(only(digit, 'metadata.name'), /warning: "1st" does not start with a letter/);
  assert.equal(digit.objects.services.length, 1);
});

test('selectors: a non-string value skips the Service, an empty selector means none', () => {
  const d = decodeYaml(
    docs(
      service('numsel', 'clusterIP: 10.0.0.13\nselector: {app: web, version: 2}\nports:\n- port: 80'),
      service('emptysel', 'clusterIP: 10.0.0.14\nselector: {}\nports:\n- port: 80'),
      service('sel', 'clusterIP: 10.0.0.15\nselector: {app: web}\nports:\n- port: 80'),
    ),
  );
  assert.match(only(d, 'numsel'), /Service default\/numsel: spec\.selector\["version"\]: error: must be a string, not 2; the Service is skipped/);
  assert.equal(svc(d, 'emptysel').selector, null);
  assert.deepEqual(svc(d, 'sel').selector, { app: 'web' });
  assert.equal(d.objects.services.length, 2);
});

test('labels: a non-string value is dropped with an error, other labels kept', () => {
  const d = decodeYaml(service('lbl', 'clusterIP: 10.0.0.16\nports:\n- port: 80', '  labels: {app: web, enabled: true}\n'));
  assert.match(only(d, 'labels'), /Service default\/lbl: metadata\.labels\["enabled"\]: error: must be a string, not the boolean true: quote it \(dropped\)/);
  assert.deepEqual(svc(d, 'lbl').meta.labels, { app: 'web' });
});

test('targetPort: a numeric string is read as the number, a bad name is a warning', () => {
  const d = decodeYaml(service('tp', 'clusterIP: 10.0.0.17\nports:\n- {name: a, port: 80, targetPort: "8080"}\n- {name: b, port: 81, targetPort: Web_Port}\n- {name: c, port: 82, targetPort: http}\n- {name: d, port: 83, targetPort: 0}'));
  assert.match(only(d, 'spec.ports[0].targetPort'), /warning: "8080" is a string: .* read as the number 8080/);
  assert.match(only(d, 'spec.ports[1].targetPort'), /warning: "Web_Port" is not a valid port name \(IANA_SVC_NAME\)/);
  assert.deepEqual(svc(d, 'tp').ports.map((p) => p.targetPort), [8080, 'Web_Port', 'http', 83]);
});

test('policies: unknown values warn and fall back as kube-proxy reads them; wrong types are errors', () => {
  const d = decodeYaml(
    service(
      'pol',
      'type: LoadBalancer\nclusterIP: 10.0.0.18\nexternalTrafficPolicy: local\ninternalTrafficPolicy: Local\nsessionAffinity: ClientIP\nsessionAffinityConfig: {clientIP: {timeoutSeconds: "1h"}}\npublishNotReadyAddresses: "yes"\nports:\n- {port: 80, nodePort: 30003}',
    ),
  );
  assert.match(only(d, 'externalTrafficPolicy'), /warning: "local" is not one of Cluster, Local: .* treats it as Cluster/);
  assert.match(only(d, 'timeoutSeconds'), /Service default\/pol: spec\.sessionAffinityConfig\.clientIP\.timeoutSeconds: error: must be an integer, not the string "1h"; ignored, so it defaults to 10800/);
  assert.match(only(d, 'publishNotReadyAddresses'), /error: must be true or false/);
  const s = svc(d, 'pol');
  assert.equal(s.externalTrafficPolicy, 'Cluster');
  assert.equal(s.internalTrafficPolicy, 'Local');
  assert.equal(s.sessionAffinityTimeoutSeconds, 10800);
  assert.equal(s.publishNotReadyAddresses, false);
});

test('healthCheckNodePort: ignored unless LoadBalancer with eTP Local; missing there is a warning', () => {
  const d = decodeYaml(
    docs(
      service('hc-cluster', 'type: LoadBalancer\nclusterIP: 10.0.0.19\nhealthCheckNodePort: 30000\nports:\n- {port: 80, nodePort: 30004}'),
      service('hc-missing', 'type: LoadBalancer\nclusterIP: 10.0.0.20\nexternalTrafficPolicy: Local\nports:\n- {port: 80, nodePort: 30005}'),
      service('hc-ok', 'type: LoadBalancer\nclusterIP: 10.0.0.21\nexternalTrafficPolicy: Local\nhealthCheckNodePort: 30006\nports:\n- {port: 80, nodePort: 30007}'),
    ),
  );
  assert.match(only(d, 'hc-cluster'), /spec\.healthCheckNodePort: warning: set, but health checks only exist for type LoadBalancer with externalTrafficPolicy Local/);
  assert.match(only(d, 'hc-missing'), /spec\.healthCheckNodePort: warning: not set: an API server would allocate one/);
  assert.equal(d.lines.filter((l) => l.includes('hc-ok')).length, 0);
  assert.equal(svc(d, 'hc-ok').healthCheckNodePort, 30006);
});
