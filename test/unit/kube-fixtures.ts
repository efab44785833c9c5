/**
 * Raw API objects (as an API server stores them) and a daemon wired to a rendering syncer, for
 * the API-source tests against the fake API server.
 */
import { DEFAULT_PROXY_CONFIG, type ProxyConfig } from '../../src/core/model/config.js';
import type { DesiredState } from '../../src/core/desired/types.js';
import { FULL_SYNC } from '../../src/dataplanes/api.js';
import { FRESH_CURRENT_NODE } from '../../src/dataplanes/iptables/host.js';
import { renderIptablesText } from '../../src/dataplanes/iptables/render.js';
import type { FamilySyncer, SyncResult } from '../../src/daemon/types.js';
import type { KubeLog, ReflectorTiming } from '../../src/runtime/kube/reflector.js';

type Obj = Record<string, unknown>;

export const NODE = 'node-a';

export const TEST_TIMING: ReflectorTiming = {
  stallTimeoutMs: 400,
  initialBackoffMs: 20,
  maxBackoffMs: 150,
  watchTimeoutSeconds: () => 60,
  pageSize: 2,
};

export const TEST_CONFIG: ProxyConfig = {
  ...DEFAULT_PROXY_CONFIG,
  nodeName: NODE,
  clusterCIDRs: ['10.244.0.0/16'],
  minSyncPeriodSeconds: 0,
  syncPeriodSeconds: 3600,
};

export function service(name: string, clusterIP: string, extra: { labels?: Record<string, string>; port?: number } = {}): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: 'default', name, labels: extra.labels ?? {} },
    spec: {
      type: 'ClusterIP',
      clusterIP,
      clusterIPs: [clusterIP],
      ipFamilies: ['IPv4'],
      selector: { app: name },
      ports: [{ name: 'http', protocol: 'TCP', port: extra.port ?? 80, targetPort: 8080 }],
    },
  };
}

export function slice(service: string, ips: readonly string[], extra: { name?: string; labels?: Record<string, string> } = {}): Obj {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      namespace: 'default',
      name: extra.name ?? `${service}-abc`,
      labels: { 'kubernetes.io/service-name': service, ...(extra.labels ?? {}) },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true }, nodeName: NODE })),
  };
}

export function node(name: string, extra: { taints?: string[]; deleting?: boolean } = {}): Obj {
  const metadata: Obj = { name, labels: { 'kubernetes.io/hostname': name } };
  if (extra.deleting === true) metadata['deletionTimestamp'] = '2025-01-01T00:00:00Z';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata,
    spec: { podCIDR: '10.244.1.0/24', taints: (extra.taints ?? []).map((key) => ({ key, effect: 'NoSchedule' })) },
    status: {
      addresses: [{ type: 'InternalIP', address: '192.168.0.10' }],
      conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: new Date().toISOString() }],
    },
  };
}

export class MemoryLog implements KubeLog {
  readonly lines: string[] = [];
  info(msg: string): void {
    this.lines.push(`INFO ${msg}`);
  }
  warn(msg: string): void {
    this.lines.push(`WARN ${msg}`);
  }
  error(msg: string): void {
    this.lines.push(`ERROR ${msg}`);
  }
}

/** Renders each desired state to iptables-restore text (a full sync on a fresh node), as the daemon would program it. */
export class RenderingSyncer implements FamilySyncer {
  readonly family = 'IPv4' as const;
  readonly texts: string[] = [];

  get last(): string {
    return this.texts.at(-1) ?? '';
  }

  sync(state: DesiredState): Promise<SyncResult> {
    this.texts.push(renderIptablesText({ state, scope: FULL_SYNC, host: FRESH_CURRENT_NODE }));
    return Promise.resolve({ full: true, changedServices: 0, rulesWritten: 0, conntrackDeleted: 0, durationMs: 0 });
  }

  forceFullSync(): void {}
}

export async function eventually(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
