import type { ServicePortKey } from '../model/service-port.js';

/**
 * How a release of kube-proxy spelled names: `current` (v1.19 and later) or `legacy`
 * (v1.18 and earlier: trailing colon for unnamed ports, `/32`, 1.18's chain layout).
 */
export type RuleFormat = 'current' | 'legacy';

/** `ns/name` or `ns/name:port`; legacy always writes the colon (`default/nginx:`). */
export function servicePortName(key: ServicePortKey, format: RuleFormat = 'current'): string {
  const base = `${key.namespace}/${key.name}`;
  if (key.portName !== '' || format === 'legacy') return `${base}:${key.portName}`;
  return base;
}

export function serviceName(key: { readonly namespace: string; readonly name: string }): string {
  return `${key.namespace}/${key.name}`;
}

export function protocolToken(key: ServicePortKey): 'tcp' | 'udp' | 'sctp' {
  switch (key.protocol) {
    case 'TCP':
      return 'tcp';
    case 'UDP':
      return 'udp';
    case 'SCTP':
      return 'sctp';
  }
}
