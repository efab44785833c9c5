/**
 * kube-proxy's iptables chain names (reference §3.1): a prefix plus the first 16 characters of
 * the RFC 4648 base32 encoding of SHA-256(spn + proto [+ endpoint]).
 */
import * as crypto from 'node:crypto';
import type { ServicePortKey } from '../../core/model/service-port.js';
import { protocolToken, servicePortName, type RuleFormat } from '../../core/naming/service-port-name.js';

export const SVC_PREFIX = 'KUBE-SVC-';
export const SVL_PREFIX = 'KUBE-SVL-';
export const EXT_PREFIX = 'KUBE-EXT-';
export const FW_PREFIX = 'KUBE-FW-';
export const SEP_PREFIX = 'KUBE-SEP-';
/** v1.18's externalTrafficPolicy=Local chain (replaced by EXT + SVL around v1.24). */
export const XLB_PREFIX = 'KUBE-XLB-';

/** iptables refuses chain names longer than this. */
export const MAX_CHAIN_NAME_LENGTH = 28;

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

// crypto.hash is the fast one-shot API (Node >= 20.12); older Node 20 releases lack it.
// Hex output avoids allocating a Buffer per hash, which matters with 100k endpoints.
const oneShotHash = (crypto as Partial<typeof crypto>).hash;

function sha256Hex(input: string): string {
  if (oneShotHash !== undefined) return oneShotHash('sha256', input, 'hex');
  return crypto.createHash('sha256').update(input).digest('hex');
}

/** The first 16 base32 characters of a digest: its first 80 bits, i.e. 20 hex digits. */
function base32First16(hex: string): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (let i = 0; i < 20; i++) {
    const c = hex.charCodeAt(i);
    buffer = ((buffer << 4) | (c < 58 ? c - 48 : c - 87)) & 0xff;
    bits += 4;
    if (bits >= 5) {
      bits -= 5;
      out += BASE32_ALPHABET[(buffer >> bits) & 31] ?? '';
    }
  }
  return out;
}

/** h16(x) of reference §3.1. */
export function hash16(input: string): string {
  return base32First16(sha256Hex(input));
}

/** The per-service-port chain names, in one format (current or legacy). */
export interface ServicePortChainNames {
  /** The SP name string used in hashes and comments (`ns/name:port`, or `ns/name` when unnamed in current format). */
  readonly spn: string;
  readonly proto: 'tcp' | 'udp' | 'sctp';
  readonly svc: string;
  readonly svl: string;
  readonly ext: string;
  readonly fw: string;
  readonly xlb: string;
}

export function servicePortChainNames(key: ServicePortKey, format: RuleFormat = 'current'): ServicePortChainNames {
  const spn = servicePortName(key, format);
  const proto = protocolToken(key);
  const h = hash16(spn + proto);
  return {
    spn,
    proto,
    svc: SVC_PREFIX + h,
    svl: SVL_PREFIX + h,
    ext: EXT_PREFIX + h,
    fw: FW_PREFIX + h,
    xlb: XLB_PREFIX + h,
  };
}

/** KUBE-SEP-<h16(spn + proto + endpoint)>, `endpoint` being Go's JoinHostPort text. */
export function endpointChainName(names: Pick<ServicePortChainNames, 'spn' | 'proto'>, endpoint: string): string {
  return SEP_PREFIX + hash16(names.spn + names.proto + endpoint);
}

const SERVICE_CHAIN_PREFIXES = [SVC_PREFIX, SVL_PREFIX, EXT_PREFIX, FW_PREFIX, SEP_PREFIX] as const;
const LEGACY_SERVICE_CHAIN_PREFIXES = [SVC_PREFIX, SEP_PREFIX, FW_PREFIX, XLB_PREFIX] as const;

/** Chains current kube-proxy deletes when they are no longer used (reference §5.6). */
export function isServiceChainName(chain: string): boolean {
  return SERVICE_CHAIN_PREFIXES.some((p) => chain.startsWith(p));
}

/** Chains v1.18 deleted when they were no longer used. */
export function isLegacyServiceChainName(chain: string): boolean {
  return LEGACY_SERVICE_CHAIN_PREFIXES.some((p) => chain.startsWith(p));
}
