/**
 * Where `rules` (and `run`) read the objects from, as kube-proxy decides it: -f files; else the
 * kubeconfig (--kubeconfig, or with --config the file's clientConnection.kubeconfig), --master,
 * or the in-cluster service account in a pod; else a usage error naming the ways.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseRulesFlags, rulesRequestFromOptions } from '../../src/cli/commands/rules.js';
import { resolveRunConfiguration } from '../../src/cli/commands/run.js';
import { KproxyError } from '../../src/core/errors.js';
import { chooseObjectSource } from '../../src/daemon/api-source.js';
import { createLogger } from '../../src/daemon/logger.js';
import { CLI_MAIN } from '../../src/runtime/daemon-process.js';
import { FakeApiServer } from '../helpers/fake-apiserver.js';
import { runKproxy, runKproxyAsync } from '../helpers/cli.js';
import { repoPath } from '../helpers/paths.js';
import { NODE, node, service, slice } from './kube-fixtures.js';

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'kproxy-rules-connection-'));
}

/** A KubeProxyConfiguration whose clientConnection.kubeconfig is the given path. */
function configFile(dir: string, kubeconfig: string): string {
  const file = path.join(dir, 'config.conf');
  writeFileSync(
    file,
    [
      'apiVersion: kubeproxy.config.k8s.io/v1alpha1',
      'kind: KubeProxyConfiguration',
      `clientConnection: {kubeconfig: ${JSON.stringify(kubeconfig)}}`,
      'clusterCIDR: 10.244.0.0/16',
      '',
    ].join('\n'),
  );
  return file;
}

test('rules --config takes the file\'s clientConnection.kubeconfig when no -f is given', () => {
  const dir = tempDir();
  const config = configFile(dir, '/etc/kube/proxy.conf');
  const request = rulesRequestFromOptions(parseRulesFlags(['--config', config, '--hostname-override', NODE]), {});
  assert.deepEqual(request.connection, { kubeconfig: '/etc/kube/proxy.conf', master: '' });
  assert.deepEqual(request.files, []);
  const withMaster = rulesRequestFromOptions(parseRulesFlags(['--config', config, '--master', 'https://10.0.0.1:6443']), {});
  assert.deepEqual(withMaster.connection, { kubeconfig: '/etc/kube/proxy.conf', master: 'https://10.0.0.1:6443' });
});

test('rules --config FILE end to end against the API server named in its kubeconfig', async () => {
  const api = await FakeApiServer.start();
  try {
    api.requiredToken = 'file-token';
    api.apply(node(NODE));
    api.apply(service('web', '10.96.0.10'));
    api.apply(slice('web', ['10.244.1.5']));
    const dir = tempDir();
    const kubeconfig = path.join(dir, 'kubeconfig.conf');
    writeFileSync(kubeconfig, api.kubeconfig('file-token'));
    const r = await runKproxyAsync(['rules', '--config', configFile(dir, kubeconfig), '--hostname-override', NODE]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /DNAT --to-destination 10\.244\.1\.5:8080/);
    assert.equal(api.listRequests().length, 3);
    assert.equal(api.watchRequests().length, 0);
    assert.ok(api.requests.every((q) => q.authorization === 'Bearer file-token'));
  } finally {
    await api.close();
  }
});

test('-f wins over the config file\'s kubeconfig; --kubeconfig with --config is ignored, as kube-proxy does, with a warning', () => {
  const dir = tempDir();
  const config = configFile(dir, '/nonexistent/kubeconfig.conf');
  const withFiles = rulesRequestFromOptions(parseRulesFlags(['--config', config, '-f', 'x.yaml']), { KUBERNETES_SERVICE_HOST: '10.96.0.1' });
  assert.equal(withFiles.connection, undefined);
  assert.deepEqual(withFiles.files, ['x.yaml']);

  const both = rulesRequestFromOptions(parseRulesFlags(['--config', config, '--kubeconfig', '/mine']), {});
  assert.deepEqual(both.connection, { kubeconfig: '/nonexistent/kubeconfig.conf', master: '' });
  const said = runKproxy(['rules', '--config', config, '--kubeconfig', '/mine']);
  assert.equal(said.status, 2);
  assert.match(said.stderr, /--kubeconfig.*ignored because --config .*config\.conf is given/);
  assert.match(said.stderr, /\/nonexistent\/kubeconfig\.conf/);

  const r = runKproxy(['rules', '--config', config, '-f', repoPath('examples/article-nginx.yaml')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\*nat$/m);
});

test('in a pod (KUBERNETES_SERVICE_HOST set) rules uses the in-cluster service account; elsewhere it asks for a source', () => {
  const inPod = rulesRequestFromOptions(parseRulesFlags([]), { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' });
  assert.deepEqual(inPod.connection, { kubeconfig: '', master: '' });
  const emptyFileKubeconfig = rulesRequestFromOptions(parseRulesFlags(['--config', configFile(tempDir(), '')]), { KUBERNETES_SERVICE_HOST: '10.96.0.1' });
  assert.deepEqual(emptyFileKubeconfig.connection, { kubeconfig: '', master: '' });
  assert.throws(
    () => rulesRequestFromOptions(parseRulesFlags([]), {}),
    (e: unknown) => e instanceof KproxyError && e.code === 'E_USAGE' && /-f PATH.*--kubeconfig PATH.*clientConnection\.kubeconfig.*in a pod/.test(e.message),
  );
  assert.throws(() => rulesRequestFromOptions(parseRulesFlags(['--config', configFile(tempDir(), '')]), {}), /clientConnection\.kubeconfig/);

  // The CLI in a "pod" with no API server behind it: it goes for the in-cluster server, not the usage error.
  const env = { ...process.env, KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: '9' };
  const r = spawnSync(process.execPath, [CLI_MAIN, 'rules'], { encoding: 'utf8', env, timeout: 60_000 });
  assert.equal(r.status, 2);
  assert.doesNotMatch(r.stderr, /give the objects with -f/);
  assert.match(r.stderr, /https:\/\/127\.0\.0\.1:9/);
});

test('run reads from the config file\'s clientConnection.kubeconfig too (no connection made here)', async () => {
  const api = await FakeApiServer.start();
  try {
    const dir = tempDir();
    const kubeconfig = path.join(dir, 'kubeconfig.conf');
    writeFileSync(kubeconfig, api.kubeconfig());
    const { op, config } = resolveRunConfiguration({ config: configFile(dir, kubeconfig), hostnameOverride: NODE, format: 'current' });
    assert.equal(op.kubeconfig, kubeconfig);
    const chosen = chooseObjectSource({
      files: [],
      connection: { kubeconfig: op.kubeconfig, master: op.master },
      connectionFlagsGiven: false,
      nodeName: config.nodeName,
      serviceProxyName: config.serviceProxyName,
      log: createLogger('text'),
    });
    assert.equal(chosen.description, `kubeconfig ${kubeconfig} (${api.url})`);
    assert.equal(api.requests.length, 0);
  } finally {
    await api.close();
  }
});
