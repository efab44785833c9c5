/**
 * The deploy/ manifests: each validates against the Kubernetes schemas (kubernetes-models), the
 * DaemonSet has what a proxy needs on a node, RBAC grants exactly what kproxy reads, the
 * ConfigMap's KubeProxyConfiguration and kubeconfig load with kproxy's own parsers, and the
 * Dockerfile builds what bin/kproxy runs, with the tools it needs (iptables behind the
 * backend-choosing wrapper, ipset, conntrack, nfacct).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { parseAllDocuments } from 'yaml';
import { parseKubeProxyConfiguration } from '../../src/cli/options/kube-proxy-config.js';
import { loadKubeConfig } from '../../src/runtime/kube/kubeconfig.js';
import { proxyResources } from '../../src/runtime/kube/resources.js';
import { repoPath } from '../helpers/paths.js';

type Obj = Record<string, unknown>;

interface Validatable {
  validate(): void;
}

const MODELS: Readonly<Record<string, (o: Obj) => Validatable>> = {
  'v1/ServiceAccount': (o) => new ServiceAccount(o),
  'v1/ConfigMap': (o) => new ConfigMap(o),
  'rbac.authorization.k8s.io/v1/ClusterRole': (o) => new ClusterRole(o),
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': (o) => new ClusterRoleBinding(o as unknown as ConstructorParameters<typeof ClusterRoleBinding>[0]),
  'apps/v1/DaemonSet': (o) => new DaemonSet(o),
};

function manifests(): Obj[] {
  const dir = repoPath('deploy');
  const out: Obj[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(readFileSync(path.join(dir, f), 'utf8'))) {
      assert.deepEqual(doc.errors, [], f);
      out.push(doc.toJS() as Obj);
    }
  }
  return out;
}

function find(kind: string): Obj {
  const o = manifests().find((m) => m['kind'] === kind);
  assert.ok(o !== undefined, `deploy/ has a ${kind}`);
  return o;
}

test('every manifest validates against the Kubernetes schema of its kind', () => {
  const all = manifests();
  assert.deepEqual(all.map((m) => m['kind']).sort(), ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'DaemonSet', 'ServiceAccount']);
  for (const m of all) {
    const key = `${String(m['apiVersion'])}/${String(m['kind'])}`;
    const model = MODELS[key];
    assert.ok(model !== undefined, `no schema for ${key}`);
    assert.doesNotThrow(() => model(m).validate(), key);
  }
});

test('the schema check does catch a broken manifest', () => {
  const ds = structuredClone(find('DaemonSet'));
  const spec = ((ds['spec'] as Obj)['template'] as Obj)['spec'] as Obj;
  (spec['containers'] as Obj[])[0] = { name: 'kproxy', image: 'x', livenessProbe: { httpGet: { port: 10256, path: 7 } } };
  assert.throws(() => new DaemonSet(ds).validate(), /path/);
});

test('the DaemonSet runs kproxy like kubeadm runs kube-proxy: host network, privileged, xtables lock, every taint', () => {
  const ds = find('DaemonSet');
  const pod = ((ds['spec'] as Obj)['template'] as Obj)['spec'] as Obj;
  assert.equal(pod['hostNetwork'], true);
  assert.equal(pod['priorityClassName'], 'system-node-critical');
  assert.deepEqual(pod['tolerations'], [{ operator: 'Exists' }]);
  assert.equal(pod['serviceAccountName'], (find('ServiceAccount')['metadata'] as Obj)['name']);
  const c = (pod['containers'] as Obj[])[0] as Obj;
  assert.deepEqual(c['securityContext'], { privileged: true });
  const command = c['command'] as string[];
  assert.deepEqual(command.slice(0, 2), ['kproxy', 'run']);
  assert.ok(command.includes('--hostname-override=$(NODE_NAME)'));
  const mounts = c['volumeMounts'] as Obj[];
  const volumes = pod['volumes'] as Obj[];
  const lock = mounts.find((m) => m['mountPath'] === '/run/xtables.lock');
  assert.ok(lock !== undefined);
  const lockVolume = volumes.find((v) => v['name'] === lock['name']);
  assert.deepEqual(lockVolume?.['hostPath'], { path: '/run/xtables.lock', type: 'FileOrCreate' });
  const config = command.find((a) => a.startsWith('--config='))?.slice('--config='.length) ?? '';
  const configMount = mounts.find((m) => config.startsWith(`${String(m['mountPath'])}/`));
  const configVolume = volumes.find((v) => v['name'] === configMount?.['name']);
  assert.equal((configVolume?.['configMap'] as Obj)['name'], (find('ConfigMap')['metadata'] as Obj)['name']);
});

test('RBAC grants list and watch on exactly what kproxy watches, get on nodes, and nothing else', () => {
  const role = find('ClusterRole');
  const rules = role['rules'] as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  const granted = new Set(rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}/${res}:${v}`)))));
  const needed = new Set<string>();
  for (const spec of proxyResources('', 'node')) {
    const group = spec.path.startsWith('/apis/') ? (spec.path.split('/')[2] ?? '') : '';
    needed.add(`${group}/${spec.name}:list`).add(`${group}/${spec.name}:watch`);
  }
  needed.add('/nodes:get');
  assert.deepEqual([...granted].sort(), [...needed].sort());
  const binding = find('ClusterRoleBinding');
  assert.equal((binding['roleRef'] as Obj)['name'], (role['metadata'] as Obj)['name']);
  const sa = find('ServiceAccount')['metadata'] as Obj;
  assert.deepEqual(binding['subjects'], [{ kind: 'ServiceAccount', name: sa['name'], namespace: sa['namespace'] }]);
});

test('the ConfigMap holds a KubeProxyConfiguration and a kubeconfig that kproxy loads without a warning', () => {
  const data = find('ConfigMap')['data'] as Record<string, string>;
  const config = parseKubeProxyConfiguration(data['config.conf'] ?? '', 'config.conf');
  assert.deepEqual(config.warnings, []);
  assert.equal(config.config.clientConnection.kubeconfig, '/var/lib/kproxy/kubeconfig.conf');
  const dir = mkdtempSync(path.join(tmpdir(), 'kproxy-deploy-'));
  const file = path.join(dir, 'kubeconfig.conf');
  writeFileSync(file, data['kubeconfig.conf'] ?? '');
  const kc = loadKubeConfig({ kubeconfig: file, master: '' });
  assert.equal(kc.getCurrentCluster()?.caFile, '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt');
  assert.deepEqual(kc.getCurrentUser()?.authProvider, {
    name: 'tokenFile',
    config: { tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' },
  });
});

test('the Dockerfile is a standard two-stage Node 20 build of what bin/kproxy runs', () => {
  const text = readFileSync(repoPath('deploy/Dockerfile'), 'utf8');
  const froms = [...text.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
  assert.deepEqual(froms, ['node:20-bookworm-slim', 'node:20-bookworm-slim']);
  assert.match(text, /npm ci/);
  const packages = /apt-get install -y --no-install-recommends ([^\n\\&]+)/.exec(text)?.[1]?.trim().split(/\s+/) ?? [];
  for (const p of ['iptables', 'ipset', 'conntrack', 'nfacct']) assert.ok(packages.includes(p), `the image installs ${p}`);
  assert.match(readFileSync(repoPath('bin/kproxy'), 'utf8'), /dist\/src\/cli\/main\.js/);
  assert.match(text, /COPY --from=build \/src\/dist\/src \.\/dist\/src/);
});

test('the image\'s iptables tools are the backend-choosing wrapper, found before Debian\'s in PATH', () => {
  const text = readFileSync(repoPath('deploy/Dockerfile'), 'utf8');
  assert.match(text, /^COPY deploy\/iptables-wrapper\.sh \/usr\/local\/sbin\/iptables-wrapper$/m);
  const linked = /for tool in ([^;]+); do/.exec(text)?.[1]?.trim().split(/\s+/) ?? [];
  assert.deepEqual(linked.sort(), ['ip6tables', 'ip6tables-restore', 'ip6tables-save', 'iptables', 'iptables-restore', 'iptables-save']);
  assert.match(text, /ln -s iptables-wrapper "\/usr\/local\/sbin\/\$tool"/);
  const pathDirs = /^ENV PATH=(\S+)$/m.exec(text)?.[1]?.split(':') ?? [];
  assert.ok(pathDirs.indexOf('/usr/local/sbin') >= 0 && pathDirs.indexOf('/usr/local/sbin') < pathDirs.indexOf('/usr/sbin'), pathDirs.join(':'));
});
