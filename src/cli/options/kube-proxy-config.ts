/**
 * `--config FILE`: a KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1, YAML or JSON).
 * Every v1alpha1 field is known; the ones that change what kproxy renders are read and
 * validated. Unknown fields are warnings (kube-proxy falls back to lenient decoding for them);
 * invalid values are errors (kube-proxy refuses to start).
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { KproxyError } from '../../core/errors.js';
import { isRecord } from '../../core/k8s/fields.js';
import type { DetectLocalMode, ProxyMode } from '../../core/model/config.js';
import {
  checkClusterCIDRs,
  checkDetectLocalMode,
  checkDuration,
  checkHostname,
  checkMasqueradeBit,
  checkNodePortAddresses,
  checkPortRange,
  checkProxyMode,
  type Checked,
} from './validate.js';

export const KUBE_PROXY_CONFIG_API_VERSION = 'kubeproxy.config.k8s.io/v1alpha1';

/** The settings a config file gave (absent = not set in the file). */
export interface ConfigFileSettings {
  mode?: ProxyMode;
  hostnameOverride?: string;
  clusterCIDRs?: string[];
  detectLocalMode?: DetectLocalMode;
  bridgeInterface?: string;
  interfaceNamePrefix?: string;
  masqueradeAll?: boolean;
  masqueradeBit?: number;
  localhostNodePorts?: boolean;
  nodePortAddresses?: string[];
  syncPeriodSeconds?: number;
  minSyncPeriodSeconds?: number;
  healthzBindAddress?: string;
  metricsBindAddress?: string;
  featureGates?: Record<string, boolean>;
  serviceProxyName?: string;
  conntrackTCPBeLiberal?: boolean;
  /** portRange, as given (userspace mode's proxy ports). */
  proxyPortRange?: string;
  /** udpIdleTimeout in ms; a zero duration is defaulted (250ms) as kube-proxy defaults it. */
  udpIdleTimeoutMs?: number;
}

export interface KubeProxyConfigFile {
  readonly path: string;
  readonly settings: ConfigFileSettings;
  readonly warnings: readonly string[];
  /** Every field the file sets, by dotted path (type-checked; durations in seconds). */
  readonly values: ReadonlyMap<string, ConfigValue>;
}

type Leaf = 'string' | 'bool' | 'int' | 'number' | 'duration' | 'stringList' | 'boolMap' | 'any';
interface Schema {
  readonly [field: string]: Leaf | Schema;
}

const MODE_BLOCK: Schema = { masqueradeAll: 'bool', masqueradeBit: 'int', minSyncPeriod: 'duration', syncPeriod: 'duration' };

const SCHEMA: Schema = {
  apiVersion: 'string',
  kind: 'string',
  bindAddress: 'string',
  bindAddressHardFail: 'bool',
  clientConnection: { acceptContentTypes: 'string', burst: 'int', contentType: 'string', kubeconfig: 'string', qps: 'number' },
  clusterCIDR: 'string',
  configSyncPeriod: 'duration',
  conntrack: {
    maxPerCore: 'int', min: 'int', tcpBeLiberal: 'bool', tcpCloseWaitTimeout: 'duration',
    tcpEstablishedTimeout: 'duration', udpStreamTimeout: 'duration', udpTimeout: 'duration', max: 'int',
  },
  detectLocal: { bridgeInterface: 'string', interfaceNamePrefix: 'string' },
  detectLocalMode: 'string',
  enableProfiling: 'bool',
  featureGates: 'boolMap',
  healthzBindAddress: 'string',
  hostnameOverride: 'string',
  iptables: { ...MODE_BLOCK, localhostNodePorts: 'bool' },
  ipvs: {
    excludeCIDRs: 'stringList', ipSet: { hashSize: 'int', maxElements: 'int' }, minSyncPeriod: 'duration',
    scheduler: 'string', strictARP: 'bool', syncPeriod: 'duration', tcpFinTimeout: 'duration',
    tcpTimeout: 'duration', udpTimeout: 'duration',
  },
  logging: { flushFrequency: 'any', format: 'string', options: 'any', verbosity: 'int', vmodule: 'any' },
  metricsBindAddress: 'string',
  mode: 'string',
  nftables: MODE_BLOCK,
  nodePortAddresses: 'stringList',
  oomScoreAdj: 'int',
  portRange: 'string',
  showHiddenMetricsForVersion: 'string',
  serviceProxyName: 'string',
  udpIdleTimeout: 'duration',
  winkernel: 'any',
  resourceContainer: 'string',
};

export type ConfigValue = string | boolean | number | readonly string[] | Record<string, boolean> | null;
type Value = ConfigValue;

class Collector {
  readonly values = new Map<string, Value>();
  readonly warnings: string[] = [];
  readonly errors: string[] = [];
}

function readLeaf(kind: Leaf, raw: unknown, path: string, out: Collector): void {
  const wrong = (what: string): void => {
    out.errors.push(`${path}: must be ${what} (got ${JSON.stringify(raw)})`);
  };
  if (raw === null && kind !== 'bool' && kind !== 'int' && kind !== 'number') {
    out.values.set(path, null);
    return;
  }
  switch (kind) {
    case 'any':
      return;
    case 'string':
      if (typeof raw !== 'string') return wrong('a string');
      out.values.set(path, raw);
      return;
    case 'bool':
      if (typeof raw !== 'boolean') return wrong('true or false');
      out.values.set(path, raw);
      return;
    case 'int':
      if (typeof raw !== 'number' || !Number.isInteger(raw)) return wrong('an integer');
      out.values.set(path, raw);
      return;
    case 'number':
      if (typeof raw !== 'number') return wrong('a number');
      out.values.set(path, raw);
      return;
    case 'duration': {
      const text = typeof raw === 'number' && raw === 0 ? '0' : raw;
      if (typeof text !== 'string') return wrong('a duration such as 30s');
      const d = checkDuration(text);
      if (!d.ok) return wrong('a duration such as 30s or 1m0s');
      out.values.set(path, d.value);
      return;
    }
    case 'stringList':
      if (!Array.isArray(raw) || !raw.every((s) => typeof s === 'string')) return wrong('a list of strings');
      out.values.set(path, raw);
      return;
    case 'boolMap': {
      if (!isRecord(raw) || !Object.values(raw).every((b) => typeof b === 'boolean')) return wrong('a map of NAME: true|false');
      out.values.set(path, raw as Record<string, boolean>);
      return;
    }
  }
}

function walk(schema: Schema, raw: Record<string, unknown>, prefix: string, out: Collector): void {
  for (const [key, value] of Object.entries(raw)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const spec = schema[key];
    if (spec === undefined) {
      out.warnings.push(`${path}: unknown field, ignored`);
    } else if (typeof spec === 'string') {
      readLeaf(spec, value, path, out);
    } else if (value === null) {
      continue;
    } else if (!isRecord(value)) {
      out.errors.push(`${path}: must be an object (got ${JSON.stringify(value)})`);
    } else {
      walk(spec, value, path, out);
    }
  }
}

function str(out: Collector, path: string): string | undefined {
  const v = out.values.get(path);
  return typeof v === 'string' ? v : undefined;
}

function bool(out: Collector, path: string): boolean | undefined {
  const v = out.values.get(path);
  return typeof v === 'boolean' ? v : undefined;
}

function num(out: Collector, path: string): number | undefined {
  const v = out.values.get(path);
  return typeof v === 'number' ? v : undefined;
}

function take<T>(out: Collector, path: string, checked: Checked<T> | undefined): T | undefined {
  if (checked === undefined) return undefined;
  if (checked.ok) return checked.value;
  out.errors.push(`${path}: ${checked.error}`);
  return undefined;
}

function settingsFrom(out: Collector): ConfigFileSettings {
  const s: ConfigFileSettings = {};
  const modeText = str(out, 'mode');
  s.mode = take(out, 'mode', modeText === undefined ? undefined : checkProxyMode(modeText));
  const block = s.mode === 'nftables' ? 'nftables' : s.mode === 'ipvs' ? 'ipvs' : 'iptables';
  const masqBlock = s.mode === 'nftables' ? 'nftables' : 'iptables';
  const host = str(out, 'hostnameOverride');
  if (host !== undefined && host.trim() !== '') s.hostnameOverride = take(out, 'hostnameOverride', checkHostname(host));
  const cidr = str(out, 'clusterCIDR');
  if (cidr !== undefined) s.clusterCIDRs = take(out, 'clusterCIDR', checkClusterCIDRs(cidr));
  const dlm = str(out, 'detectLocalMode');
  if (dlm !== undefined) s.detectLocalMode = take(out, 'detectLocalMode', checkDetectLocalMode(dlm));
  s.bridgeInterface = str(out, 'detectLocal.bridgeInterface');
  s.interfaceNamePrefix = str(out, 'detectLocal.interfaceNamePrefix');
  s.masqueradeAll = bool(out, `${masqBlock}.masqueradeAll`);
  const bit = num(out, `${masqBlock}.masqueradeBit`);
  if (bit !== undefined) s.masqueradeBit = take(out, `${masqBlock}.masqueradeBit`, checkMasqueradeBit(bit));
  s.localhostNodePorts = bool(out, 'iptables.localhostNodePorts');
  const npa = out.values.get('nodePortAddresses');
  if (Array.isArray(npa)) s.nodePortAddresses = take(out, 'nodePortAddresses', checkNodePortAddresses(npa as string[]));
  s.syncPeriodSeconds = num(out, `${block}.syncPeriod`);
  s.minSyncPeriodSeconds = num(out, `${block}.minSyncPeriod`);
  s.healthzBindAddress = str(out, 'healthzBindAddress');
  s.metricsBindAddress = str(out, 'metricsBindAddress');
  const gates = out.values.get('featureGates');
  if (isRecord(gates)) s.featureGates = gates;
  s.serviceProxyName = str(out, 'serviceProxyName');
  s.conntrackTCPBeLiberal = bool(out, 'conntrack.tcpBeLiberal');
  const portRange = str(out, 'portRange');
  if (portRange !== undefined) s.proxyPortRange = take(out, 'portRange', checkPortRange(portRange));
  const udpIdle = num(out, 'udpIdleTimeout');
  if (udpIdle !== undefined && udpIdle > 0) s.udpIdleTimeoutMs = Math.round(udpIdle * 1000);
  for (const key of Object.keys(s) as (keyof ConfigFileSettings)[]) if (s[key] === undefined) Reflect.deleteProperty(s, key);
  return s;
}

/** Parses a KubeProxyConfiguration; throws E_CONFIG listing every invalid field. */
export function parseKubeProxyConfiguration(text: string, path: string): KubeProxyConfigFile {
  const docs = parseAllDocuments(text);
  const fail = (lines: readonly string[]): never => {
    throw new KproxyError('E_CONFIG', lines.map((l) => `${path}: ${l}`).join('\n'));
  };
  if (docs.length !== 1) fail(['must hold exactly one KubeProxyConfiguration document']);
  const doc = docs[0];
  if (doc === undefined) return fail(['empty file']);
  if (doc.errors.length > 0) fail(doc.errors.map((e) => `not valid YAML: ${e.message}`));
  const raw: unknown = doc.toJS();
  if (!isRecord(raw)) return fail(['must be a KubeProxyConfiguration object']);
  if (raw.kind !== 'KubeProxyConfiguration') fail([`kind: must be KubeProxyConfiguration (got ${JSON.stringify(raw.kind)})`]);
  if (raw.apiVersion !== KUBE_PROXY_CONFIG_API_VERSION) {
    fail([`apiVersion: must be ${KUBE_PROXY_CONFIG_API_VERSION} (got ${JSON.stringify(raw.apiVersion)})`]);
  }
  const out = new Collector();
  walk(SCHEMA, raw, '', out);
  const settings = settingsFrom(out);
  if (out.errors.length > 0) fail(out.errors);
  return { path, settings, warnings: out.warnings.map((w) => `${path}: ${w}`), values: out.values };
}

export function loadKubeProxyConfiguration(path: string): KubeProxyConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new KproxyError('E_CONFIG', `${path}: cannot read the configuration file`, { cause: err });
  }
  return parseKubeProxyConfiguration(text, path);
}
