/**
 * `--config FILE`: a KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1, YAML or JSON), read
 * as kube-proxy reads it: decoded (every v1alpha1 field is known and type-checked; `null` means
 * not set), defaulted (kube-proxy-defaults.ts), then validated. Unknown fields are warnings
 * (kube-proxy falls back to lenient decoding for them); invalid values are errors naming every
 * bad field (kube-proxy refuses to start).
 */
import { parseAllDocuments } from 'yaml';
import { KproxyError } from '../../core/errors.js';
import { isRecord } from '../../core/k8s/fields.js';
import { readTextFileSync } from '../../runtime/io.js';
import type { ProxyConfig } from '../../core/model/config.js';
import type { Diagnostic } from '../../core/model/diagnostics.js';
import { optionWarning } from './config-precedence.js';
import { defaultKubeProxyConfiguration, type DefaultedKubeProxyConfiguration } from './kube-proxy-defaults.js';
import { configFileOperationalProblems } from './operational.js';
import {
  checkClusterCIDRs,
  checkDetectLocalMode,
  checkDuration,
  checkMasqueradeBit,
  checkNodePortAddresses,
  checkPortRange,
  checkProxyMode,
  type Checked,
} from './validate.js';

export const KUBE_PROXY_CONFIG_API_VERSION = 'kubeproxy.config.k8s.io/v1alpha1';

/**
 * What a config file sets that shapes rendering, after kube-proxy's defaulting and validation:
 * the ProxyConfig fields (the node's name and IPs come from flags), plus two host settings.
 */
export type FileProxySettings = Omit<ProxyConfig, 'nodeName' | 'nodeIPs' | 'origin'> & {
  /** hostnameOverride as written ("" = the machine's hostname); checked once flags are known. */
  readonly hostnameOverride: string;
  readonly conntrackTCPBeLiberal: boolean;
};

export interface KubeProxyConfigFile {
  readonly path: string;
  /** The rendering settings (defaulted, converted for the file's mode, validated). */
  readonly settings: FileProxySettings;
  /** The whole v1alpha1 object after kube-proxy's defaulting. */
  readonly config: DefaultedKubeProxyConfiguration;
  /** Unknown fields, located at the file and field (`PATH: field: warning: ...`). */
  readonly warnings: readonly Diagnostic[];
  /** Every field the file sets to a value other than null, by dotted path (type-checked; durations in seconds). */
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

export type ConfigValue = string | boolean | number | readonly string[] | Record<string, boolean>;
type Value = ConfigValue;

class Collector {
  readonly values = new Map<string, Value>();
  /** Unknown fields, by dotted path. */
  readonly unknown: string[] = [];
  readonly errors: string[] = [];
}

function readLeaf(kind: Leaf, raw: unknown, path: string, out: Collector): void {
  const wrong = (what: string): void => {
    out.errors.push(`${path}: must be ${what} (got ${JSON.stringify(raw)})`);
  };
  // Go decodes null as "not set": the zero value, or a nil pointer that defaulting fills in.
  if (raw === null) return;
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
      out.unknown.push(path);
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

function take<T>(out: Collector, path: string, checked: Checked<T>, fallback: T): T {
  if (checked.ok) return checked.value;
  out.errors.push(`${path}: ${checked.error}`);
  return fallback;
}

/**
 * The defaulted object → rendering settings, as kube-proxy converts v1alpha1 to its internal
 * configuration (the active mode's block gives the sync periods and masquerading), with
 * kube-proxy's validation of those fields.
 */
function settingsFrom(c: DefaultedKubeProxyConfiguration, out: Collector): FileProxySettings {
  const mode = take(out, 'mode', checkProxyMode(c.mode), 'iptables');
  const periods = mode === 'nftables' ? c.nftables : mode === 'ipvs' ? c.ipvs : c.iptables;
  const masquerade = mode === 'nftables' ? c.nftables : c.iptables;
  take(out, 'iptables.masqueradeBit', checkMasqueradeBit(c.iptables.masqueradeBit), 14);
  if (mode === 'nftables') take(out, 'nftables.masqueradeBit', checkMasqueradeBit(c.nftables.masqueradeBit), 14);
  const detectLocalMode = take(out, 'detectLocalMode', checkDetectLocalMode(c.detectLocalMode), 'ClusterCIDR');
  if (detectLocalMode === 'BridgeInterface' && c.detectLocal.bridgeInterface === '') {
    out.errors.push('detectLocal.bridgeInterface: must not be empty with detectLocalMode BridgeInterface');
  }
  if (detectLocalMode === 'InterfaceNamePrefix' && c.detectLocal.interfaceNamePrefix === '') {
    out.errors.push('detectLocal.interfaceNamePrefix: must not be empty with detectLocalMode InterfaceNamePrefix');
  }
  return {
    mode,
    hostnameOverride: c.hostnameOverride,
    clusterCIDRs: take(out, 'clusterCIDR', checkClusterCIDRs(c.clusterCIDR), []),
    detectLocalMode,
    bridgeInterface: c.detectLocal.bridgeInterface,
    interfaceNamePrefix: c.detectLocal.interfaceNamePrefix,
    masqueradeAll: masquerade.masqueradeAll,
    masqueradeBit: masquerade.masqueradeBit,
    localhostNodePorts: c.iptables.localhostNodePorts,
    nodePortAddresses: take(out, 'nodePortAddresses', checkNodePortAddresses(c.nodePortAddresses), []),
    syncPeriodSeconds: periods.syncPeriod,
    minSyncPeriodSeconds: periods.minSyncPeriod,
    healthzBindAddress: c.healthzBindAddress,
    metricsBindAddress: c.metricsBindAddress,
    featureGates: c.featureGates,
    serviceProxyName: c.serviceProxyName,
    conntrackTCPBeLiberal: c.conntrack.tcpBeLiberal,
    proxyPortRange: take(out, 'portRange', checkPortRange(c.portRange), ''),
    udpIdleTimeoutMs: Math.round(c.udpIdleTimeout * 1000),
  };
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
  const config = defaultKubeProxyConfiguration(out.values);
  const settings = settingsFrom(config, out);
  // The fields that do not shape rules (oomScoreAdj, bind addresses, periods, ...) are checked
  // here too, so that one run names every invalid field.
  out.errors.push(...configFileOperationalProblems(config, settings));
  if (out.errors.length > 0) fail(out.errors);
  const warnings = out.unknown.map((field) => optionWarning(path, field, 'unknown field, ignored'));
  return { path, settings, config, warnings, values: out.values };
}

export function loadKubeProxyConfiguration(path: string): KubeProxyConfigFile {
  return parseKubeProxyConfiguration(readTextFileSync(path), path);
}
