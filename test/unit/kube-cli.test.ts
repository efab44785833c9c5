/**
 * The CLI against the fake API server: `rules --kubeconfig` lists once and renders; `run`
 * without -f reads the API, serves /healthz, /configz and the health-check node ports, and
 * exits with kube-proxy's message when its --config file changes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runKproxyAsync } from '../helpers/cli.js';
import { FakeApiServer } from '../helpers/fake-apiserver.js';
import { deadAddress, privateLoopbackIP, quietPort } from '../helpers/ports.js';
import { NODE, eventually, node, service, slice } from './kube-fixtures.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'kproxy-kube-cli-'));
}

test('rules --kubeconfig lists the cluster once, sends the token and renders this node\'s rules', async () => {
  const api = await FakeApiServer.start();
  try {
    api.requiredToken = 'secret-token';
    api.apply(node(NODE));
    api.apply(service('web', '10.96.0.10'));
    api.apply(slice('web', ['10.244.1.5']));
    const dir = tempDir();
    const kubeconfig = path.join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, api.kubeconfig('secret-token'));
    const r = await runKproxyAsync(['rules', '--kubeconfig', kubeconfig, '--hostname-override', NODE, '--cluster-cidr', '10.244.0.0/16']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /-A KUBE-SERVICES -m comment --comment "default\/web:http cluster IP" .* -d 10\.96\.0\.10 --dport 80/);
    assert.match(r.stdout, /DNAT --to-destination 10\.244\.1\.5:8080/);
    assert.equal(api.watchRequests().length, 0, 'no watch');
    assert.equal(api.listRequests().length, 3);
    assert.ok(api.requests.every((q) => q.authorization === 'Bearer secret-token'));

    const wrong = path.join(dir, 'wrong');
    writeFileSync(wrong, api.kubeconfig('other'));
    const denied = await runKproxyAsync(['rules', '--kubeconfig', wrong, '--hostname-override', NODE]);
    assert.notEqual(denied.status, 0);
    assert.match(denied.stderr, /listing services from http:\/\/127\.\d+\.\d+\.\d+:\d+: HTTP 401/);
  } finally {
    await api.close();
  }
});

test('rules refuses -f together with --kubeconfig, and needs one of them', async () => {
  const both = await runKproxyAsync(['rules', '-f', 'x.yaml', '--kubeconfig', 'k']);
  assert.notEqual(both.status, 0);
  assert.match(both.stderr, /exclude each other/);
  const none = await runKproxyAsync(['rules']);
  assert.match(none.stderr, /--kubeconfig PATH/);
});

/*
 * `run` is only ever started here against an API server that cannot be reached: it waits for its
 * first lists and so never programs anything in this (the root) network namespace. What it does
 * once synced is tested in-process (kube-source, kube-service-health) with a rendering syncer.
 */
test('run without -f waits for the API, serves /configz meanwhile, and exits when its --config changes', async () => {
  const dir = tempDir();
  // An API server that cannot be reached, and a metrics port no other socket can take before the
  // child binds it (a port closed after listen(0) could be; the child then fails to start).
  const dead = await deadAddress();
  const master = `http://${dead.ip}:${dead.port}`;
  const metricsIP = privateLoopbackIP();
  const metricsPort = await quietPort(metricsIP);
  const config = path.join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      'apiVersion: kubeproxy.config.k8s.io/v1alpha1',
      'kind: KubeProxyConfiguration',
      'healthzBindAddress: ""',
      `metricsBindAddress: ${metricsIP}:${metricsPort}`,
      'oomScoreAdj: 0',
      'clusterCIDR: 10.244.0.0/16',
      '',
    ].join('\n'),
  );
  const child = spawn(process.execPath, [MAIN, 'run', '--config', config, '--master', master, '--hostname-override', NODE, '--ip-families', 'ipv4'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    await eventually('a failed list, retried', () => /listing services failed; keeping the last objects seen and retrying/.test(stderr), 15_000);
    const configz = (await (await fetch(`http://${metricsIP}:${metricsPort}/configz`)).json()) as Record<string, Record<string, unknown>>;
    const internal = configz['kubeproxy.config.k8s.io'] ?? {};
    assert.equal(internal['HostnameOverride'], NODE);
    assert.deepEqual((internal['DetectLocal'] as Record<string, unknown>)['ClusterCIDRs'], ['10.244.0.0/16']);
    assert.equal(internal['SyncPeriod'], 30e9);
    assert.doesNotMatch(stderr, /synced proxy rules/);
    writeFileSync(config, `${readFileSync(config, 'utf8')}# edited\n`);
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 10_000))]);
    assert.notEqual(code, 'timeout');
    assert.notEqual(code, 0);
    assert.match(stderr, /content of the proxy server's configuration file was updated/);
  } finally {
    child.kill('SIGKILL');
  }
});

test('run --write-config-to writes the effective configuration and exits', async () => {
  const dir = tempDir();
  const out = path.join(dir, 'written.yaml');
  const r = await runKproxyAsync(['run', '--write-config-to', out, '--cluster-cidr', '10.244.0.0/16', '--kubeconfig', '/k.conf', '--hostname-override', 'N1']);
  assert.equal(r.status, 0, r.stderr);
  const text = readFileSync(out, 'utf8');
  assert.match(text, /^apiVersion: kubeproxy\.config\.k8s\.io\/v1alpha1$/m);
  assert.match(text, /^clusterCIDR: 10\.244\.0\.0\/16$/m);
  assert.match(text, /^ {2}kubeconfig: \/k\.conf$/m);
  assert.match(text, /^hostnameOverride: n1$/m);
  assert.match(text, /^configSyncPeriod: 15m0s$/m);
  // What it wrote reads back as the same configuration.
  const again = path.join(dir, 'again.yaml');
  const r2 = await runKproxyAsync(['run', '--config', out, '--write-config-to', again]);
  assert.equal(r2.status, 0, r2.stderr);
  assert.equal(readFileSync(again, 'utf8'), text);
});
