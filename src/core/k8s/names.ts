/**
 * The API server's name checks (apimachinery validation). A name that fails them but is
 * rule-safe (see `isRuleSafeName`) is what kube-proxy would still render: kproxy keeps it with a
 * warning. Any other name could break a rule line or a chain comment, so kproxy refuses it.
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

/** The longest name kproxy writes into a rule (a DNS-1123 label's limit): comments stay under iptables' 256 characters. */
export const MAX_RULE_NAME_LENGTH = 63;

/**
 * Whether a name can go into a rule line, a quoted comment and a `namespace/name:port` string
 * unchanged and unambiguously: ASCII letters (either case), digits, ".", "_" and "-", at most
 * `maxLength` characters. No spaces, quotes, backslashes or control characters (they would break
 * the line) and no "/" or ":" (they would make two Service ports one name).
 */
export function isRuleSafeName(s: string, maxLength: number): boolean {
  return s.length >= 1 && s.length <= maxLength && /^[A-Za-z0-9._-]+$/.test(s);
}

export function isPortNumber(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** The API server's default node-port range (--service-node-port-range). */
export function isInDefaultNodePortRange(n: number): boolean {
  return n >= 30000 && n <= 32767;
}
