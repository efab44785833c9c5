/**
 * How kproxy reaches the API server, as kube-proxy decides it: `--kubeconfig PATH` (with
 * `--master URL` overriding its server), `--master URL` alone (no credentials), or, with
 * neither, the in-cluster service-account configuration. Credentials, TLS and auth plugins are
 * handled by @kubernetes/client-node's KubeConfig.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { KubeConfig, type Cluster, type User } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { KproxyError } from '../../core/errors.js';
import { inputError } from '../io.js';

export interface ConnectionOptions {
  /** --kubeconfig / clientConnection.kubeconfig; empty = none. */
  readonly kubeconfig: string;
  /** --master; empty = none. */
  readonly master: string;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Where a connection's settings came from, for logs and errors. */
export function describeConnection(o: ConnectionOptions): string {
  if (o.kubeconfig !== '') return o.master === '' ? `kubeconfig ${o.kubeconfig}` : `kubeconfig ${o.kubeconfig}, server ${o.master}`;
  if (o.master !== '') return `server ${o.master}`;
  return 'in-cluster service account';
}

function checkMaster(master: string): string {
  let url: URL;
  try {
    url = new URL(master);
  } catch {
    throw new KproxyError('E_CONFIG', `--master: "${master}" is not a URL such as https://10.0.0.1:6443`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new KproxyError('E_CONFIG', `--master: "${master}" must start with http:// or https://`);
  }
  return master.replace(/\/+$/, '');
}

/**
 * client-go reads `tokenFile` (and re-reads it, as projected service-account tokens rotate);
 * client-node reads `token-file` once. Users with either become client-node's refreshing
 * token-file provider.
 */
function tokenFiles(kubeconfigPath: string): Map<string, string> {
  const out = new Map<string, string>();
  const raw: unknown = parseYaml(readFileSync(kubeconfigPath, 'utf8'));
  if (typeof raw !== 'object' || raw === null) return out;
  const users = (raw as { users?: unknown }).users;
  if (!Array.isArray(users)) return out;
  for (const entry of users as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { name, user } = entry as { name?: unknown; user?: unknown };
    if (typeof name !== 'string' || typeof user !== 'object' || user === null) continue;
    const fields = user as Record<string, unknown>;
    const file = fields['tokenFile'] ?? fields['token-file'];
    if (typeof file === 'string' && file !== '' && fields['token'] === undefined) {
      out.set(name, path.resolve(path.dirname(kubeconfigPath), file));
    }
  }
  return out;
}

function withTokenFile(user: User, file: string): User {
  return { ...user, token: undefined, authProvider: { name: 'tokenFile', config: { tokenFile: file } } };
}

/** Plain http has no TLS to verify; client-node refuses it unless told to skip verification. */
function plainHttpAllowed(cluster: Cluster): Cluster {
  return cluster.server.startsWith('http:') ? { ...cluster, skipTLSVerify: true } : cluster;
}

function fromKubeconfig(file: string, master: string): KubeConfig {
  const kc = new KubeConfig();
  let tokens: Map<string, string>;
  try {
    kc.loadFromFile(file);
    tokens = tokenFiles(file);
  } catch (cause) {
    // A file that is not there is an input error like any other; a file that does not parse is a bad configuration.
    if (cause instanceof Error && 'code' in cause && typeof cause.code === 'string') throw inputError(file, cause);
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new KproxyError('E_CONFIG', `--kubeconfig ${file}: cannot load: ${why}`, { cause });
  }
  const current = kc.getCurrentCluster();
  if (current === null) {
    throw new KproxyError('E_CONFIG', `--kubeconfig ${file}: no current context with a cluster (set current-context)`);
  }
  kc.users = kc.users.map((u) => {
    const t = tokens.get(u.name);
    return t === undefined ? u : withTokenFile(u, t);
  });
  kc.clusters = kc.clusters.map((c) => {
    if (c.name !== current.name) return c;
    return plainHttpAllowed(master === '' ? c : { ...c, server: master });
  });
  return kc;
}

function inCluster(env: NodeJS.ProcessEnv, saDir: string): KubeConfig {
  const host = env['KUBERNETES_SERVICE_HOST'] ?? '';
  const port = env['KUBERNETES_SERVICE_PORT'] ?? '';
  if (host === '' || port === '') {
    throw new KproxyError(
      'E_CONFIG',
      'no API server given: use --kubeconfig PATH or --master URL (in-cluster configuration needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT, set in a pod)',
    );
  }
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser(
    { name: 'inCluster', server: `https://${hostPart}:${port}`, caFile: path.join(saDir, 'ca.crt'), skipTLSVerify: false },
    { name: 'inClusterUser', authProvider: { name: 'tokenFile', config: { tokenFile: path.join(saDir, 'token') } } },
  );
  return kc;
}

/** Builds the client configuration; throws E_CONFIG with the reason when it cannot. */
export function loadKubeConfig(o: ConnectionOptions, env: NodeJS.ProcessEnv = process.env, saDir = SERVICE_ACCOUNT_DIR): KubeConfig {
  const master = o.master === '' ? '' : checkMaster(o.master);
  if (o.kubeconfig !== '') return fromKubeconfig(o.kubeconfig, master);
  if (master !== '') {
    const kc = new KubeConfig();
    kc.loadFromClusterAndUser(plainHttpAllowed({ name: 'master', server: master, skipTLSVerify: false }), { name: 'anonymous' });
    return kc;
  }
  return inCluster(env, saDir);
}
