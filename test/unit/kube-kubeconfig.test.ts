/** How kproxy reaches the API server: kubeconfig (token, tokenFile), --master, in-cluster. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadKubeConfig } from '../../src/runtime/kube/kubeconfig.js';
import { HttpKubeClient } from '../../src/runtime/kube/transport.js';
import { FakeApiServer } from '../helpers/fake-apiserver.js';

const dir = mkdtempSync(path.join(tmpdir(), 'kproxy-kubeconfig-'));

test('a kubeadm-style kubeconfig with tokenFile sends the file\'s token; --master overrides the server', async () => {
  const api = await FakeApiServer.start();
  try {
    api.requiredToken = 'from-the-file';
    writeFileSync(path.join(dir, 'token'), 'from-the-file');
    const file = path.join(dir, 'kubeconfig.conf');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: default',
        '  cluster: {server: "https://192.0.2.1:6443", insecure-skip-tls-verify: true}',
        'users:',
        '- name: default',
        '  user: {tokenFile: token}',
        'contexts:',
        '- name: default',
        '  context: {cluster: default, user: default}',
        'current-context: default',
        '',
      ].join('\n'),
    );
    const client = new HttpKubeClient(loadKubeConfig({ kubeconfig: file, master: api.url }));
    assert.equal(client.server, api.url);
    const list = (await client.getJSON('/api/v1/services', {})) as { kind: string };
    assert.equal(list.kind, 'ServiceList');
    assert.equal(api.requests[0]?.authorization, 'Bearer from-the-file');
  } finally {
    await api.close();
  }
});

test('API errors carry the status and the server\'s message', async () => {
  const api = await FakeApiServer.start();
  try {
    api.requiredToken = 'right';
    const client = new HttpKubeClient(loadKubeConfig({ kubeconfig: '', master: api.url }));
    await assert.rejects(client.getJSON('/api/v1/services', {}), (err: Error & { status?: number; code?: string }) => {
      assert.equal(err.status, 401);
      assert.equal(err.code, 'E_API');
      assert.match(err.message, /HTTP 401 Unauthorized/);
      return true;
    });
  } finally {
    await api.close();
  }
});

test('in-cluster: the service-account token and CA, at KUBERNETES_SERVICE_HOST:PORT', () => {
  const kc = loadKubeConfig({ kubeconfig: '', master: '' }, { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, '/sa');
  assert.equal(kc.getCurrentCluster()?.server, 'https://[fd00::1]:443');
  assert.equal(kc.getCurrentCluster()?.caFile, '/sa/ca.crt');
  assert.deepEqual(kc.getCurrentUser()?.authProvider, { name: 'tokenFile', config: { tokenFile: '/sa/token' } });
  assert.throws(() => loadKubeConfig({ kubeconfig: '', master: '' }, {}), /use --kubeconfig PATH or --master URL/);
});

test('bad connection settings are clear errors', () => {
  assert.throws(() => loadKubeConfig({ kubeconfig: '', master: 'not a url' }), /--master: "not a url" is not a URL/);
  assert.throws(() => loadKubeConfig({ kubeconfig: '', master: 'ftp://x' }), /must start with http:\/\/ or https:\/\//);
  assert.throws(() => loadKubeConfig({ kubeconfig: path.join(dir, 'missing'), master: '' }), (err: Error) => {
    assert.equal((err as Error & { code?: string }).code, 'E_INPUT');
    assert.equal(err.message, `${path.join(dir, 'missing')}: no such file or directory`);
    return true;
  });
  const broken = path.join(dir, 'broken.conf');
  writeFileSync(broken, 'a: [\n');
  assert.throws(() => loadKubeConfig({ kubeconfig: broken, master: '' }), /--kubeconfig .*broken\.conf: cannot load/);
  const empty = path.join(dir, 'empty.conf');
  writeFileSync(empty, 'apiVersion: v1\nkind: Config\n');
  assert.throws(() => loadKubeConfig({ kubeconfig: empty, master: '' }), /no current context/);
});
