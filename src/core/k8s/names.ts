/**
 * The API server's name checks (apimachinery validation): names that pass them can never break
 * an iptables rule line or a chain comment, so kproxy refuses every name that fails them.
 */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** Namespaces, Service port names, EndpointSlice and Endpoints port names. */
export function isDNS1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

/** Service names (the API server requires a letter first; a digit first breaks nothing). */
export function isDNS1035Label(s: string): boolean {
  return s.length <= 63 && DNS1035_LABEL.test(s);
}

/** Names of Pods, Nodes, EndpointSlices, Endpoints, Deployments. */
export function isDNS1123Subdomain(s: string): boolean {
  return s.length <= 253 && s.split('.').every((part) => DNS1123_LABEL.test(part));
}

/** Container port names and named target ports (IANA_SVC_NAME). */
export function isIanaServiceName(s: string): boolean {
  return (
    s.length >= 1 &&
    s.length <= 15 &&
    /^[-a-z0-9]+$/.test(s) &&
    /[a-z]/.test(s) &&
    !s.includes('--') &&
    !s.startsWith('-') &&
    !s.endsWith('-')
  );
}

export function isPortNumber(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** The API server's default node-port range (--service-node-port-range). */
export function isInDefaultNodePortRange(n: number): boolean {
  return n >= 30000 && n <= 32767;
}
