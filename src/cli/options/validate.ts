/**
 * Validation of kube-proxy option values, shared by flags and the --config file (kube-proxy's
 * pkg/proxy/apis/config/validation: the same values are refused in both places).
 */
import type { DetectLocalMode, ProxyMode } from '../../core/model/config.js';
import { PROXY_MODES } from '../../core/model/config.js';
import { parseCIDR, parseIP } from '../../core/net/ip.js';
import { parsePortRange } from '../../dataplanes/userspace/ports.js';

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

function ok<T>(value: T): Checked<T> {
  return { ok: true, value };
}

function bad<T>(error: string): Checked<T> {
  return { ok: false, error };
}

export function checkProxyMode(value: string): Checked<ProxyMode> {
  if (value === '') return ok('iptables');
  const mode = PROXY_MODES.find((m) => m === value);
  return mode === undefined ? bad(`must be one of ${PROXY_MODES.join(', ')} (got "${value}")`) : ok(mode);
}

const DETECT_LOCAL_MODES: readonly DetectLocalMode[] = ['ClusterCIDR', 'NodeCIDR', 'BridgeInterface', 'InterfaceNamePrefix'];

export function checkDetectLocalMode(value: string): Checked<DetectLocalMode> {
  if (value === '') return ok('ClusterCIDR');
  const mode = DETECT_LOCAL_MODES.find((m) => m === value);
  return mode === undefined ? bad(`must be one of ${DETECT_LOCAL_MODES.join(', ')} (got "${value}")`) : ok(mode);
}

export function checkMasqueradeBit(value: number): Checked<number> {
  if (!Number.isInteger(value) || value < 0 || value > 31) return bad(`must be an integer from 0 to 31 (got ${value})`);
  return ok(value);
}

/** `--cluster-cidr`: one CIDR, or a comma-separated pair of different families. */
export function checkClusterCIDRs(value: string): Checked<string[]> {
  const parts = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length > 2) return bad(`at most one CIDR per IP family (got ${parts.length} CIDRs in "${value}")`);
  const families = new Set<string>();
  for (const p of parts) {
    const cidr = parseCIDR(p);
    if (cidr === null) return bad(`"${p}" is not a valid CIDR`);
    if (families.has(cidr.family)) return bad(`two ${cidr.family} CIDRs in "${value}"`);
    families.add(cidr.family);
  }
  return ok(parts);
}

/** `--nodeport-addresses`: CIDRs, or the single value `primary`. */
export function checkNodePortAddresses(values: readonly string[]): Checked<string[]> {
  const parts = values.map((s) => s.trim()).filter((s) => s !== '');
  if (parts.includes('primary')) {
    return parts.length === 1 ? ok(parts) : bad('"primary" cannot be combined with CIDRs');
  }
  for (const p of parts) if (parseCIDR(p) === null) return bad(`"${p}" is not a valid CIDR (nor "primary")`);
  return ok(parts);
}

export function checkNodeIPs(values: readonly string[]): Checked<string[]> {
  for (const v of values) if (parseIP(v.trim()) === null) return bad(`"${v}" is not a valid IP address`);
  return ok(values.map((v) => v.trim()));
}

/** kube-proxy lower-cases and trims the node name; an empty result is an error. */
export function checkHostname(value: string): Checked<string> {
  const name = value.trim().toLowerCase();
  return name === '' ? bad('must not be empty') : ok(name);
}

/** `--feature-gates A=true,B=false`. */
export function checkFeatureGates(value: string): Checked<Record<string, boolean>> {
  const gates: Record<string, boolean> = {};
  for (const part of value.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const m = /^([A-Za-z0-9]+)=(true|false)$/i.exec(part);
    if (m === null) return bad(`"${part}" is not NAME=true|false`);
    gates[m[1] ?? ''] = (m[2] ?? '').toLowerCase() === 'true';
  }
  return ok(gates);
}

/** Go's strconv.ParseBool spellings (pflag bool flags take `--flag=false`). */
export function checkBool(value: string): Checked<boolean> {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return ok(true);
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return ok(false);
  return bad(`"${value}" is not a boolean (true or false)`);
}

/** Go durations as KubeProxyConfiguration writes them (`30s`, `1m0s`, `1h0m0s`, `500ms`), in seconds. */
export function checkDuration(value: string): Checked<number> {
  if (value === '0') return ok(0);
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let total = 0;
  let consumed = 0;
  for (const m of value.matchAll(re)) {
    if (m.index !== consumed) return bad(`"${value}" is not a duration such as 30s or 1m0s`);
    total += Number(m[1]) * (unit[m[2] ?? 's'] ?? 1);
    consumed += m[0].length;
  }
  if (consumed === 0 || consumed !== value.length) return bad(`"${value}" is not a duration such as 30s or 1m0s`);
  return ok(total);
}

/** `--proxy-port-range` / portRange: LOW-HIGH, BASE+OFFSET or PORT; "" or "0-0" = the kernel picks. */
export function checkPortRange(value: string): Checked<string> {
  const parsed = parsePortRange(value);
  return 'error' in parsed ? bad(parsed.error) : ok(value.trim());
}

/** `--udp-timeout`: a duration greater than 0, in milliseconds. */
export function checkUdpIdleTimeout(value: string): Checked<number> {
  const seconds = checkDuration(value.trim());
  if (!seconds.ok) return seconds;
  if (seconds.value <= 0) return bad(`must be greater than 0 (got "${value}")`);
  return ok(Math.round(seconds.value * 1000));
}

/** Go's net.SplitHostPort: `host:port` or `[host]:port`; null where Go reports an error. */
export function splitHostPort(value: string): { host: string; port: string } | null {
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0 || value[end + 1] !== ':') return null;
    const host = value.slice(1, end);
    const port = value.slice(end + 2);
    return port.includes(':') || port.includes('[') || port.includes(']') ? null : { host, port };
  }
  const colon = value.lastIndexOf(':');
  if (colon < 0) return null;
  const host = value.slice(0, colon);
  if (host.includes(':') || host.includes('[') || host.includes(']')) return null;
  return { host, port: value.slice(colon + 1) };
}

/** kube-proxy's AppendPortIfNeeded: a bare IP gets the default port; anything else is kept as is. */
export function appendPortIfNeeded(address: string, port: number): string {
  if (splitHostPort(address) !== null) return address;
  const ip = parseIP(address);
  if (ip === null) return address;
  return ip.family === 'IPv4' ? `${address}:${port}` : `[${address}]:${port}`;
}

/** kube-proxy's validation of healthzBindAddress / metricsBindAddress: `IP:port`, port 1-65535. */
export function checkHostPort(value: string): Checked<string> {
  const parts = splitHostPort(value);
  if (parts === null) return bad(`"${value}" must be IP:port`);
  if (parseIP(parts.host) === null) return bad(`"${value}": "${parts.host}" is not an IP address`);
  const port = Number(parts.port);
  if (!/^\d+$/.test(parts.port) || port < 1 || port > 65535) return bad(`"${value}": "${parts.port}" must be a valid port (1-65535)`);
  return ok(value);
}
