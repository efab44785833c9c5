/**
 * The listener plan of the userspace mode: which proxy listeners ("frontends") a desired state
 * needs, which endpoints each one balances over and what happens to traffic that reaches it.
 *
 * kube-proxy's userspace mode had exactly one proxy port per service port and no traffic
 * policies. kproxy keeps one port per service port for ordinary services and adds a port only
 * where core's policy sends two kinds of traffic to different endpoint sets (or verdicts):
 *
 * - `internal`: ClusterIP traffic (internalTrafficPolicy decides the endpoints);
 * - `external`: externalIPs, load-balancer IPs and node ports (externalTrafficPolicy decides);
 *   shares the internal frontend when both policies are the same;
 * - `cluster`: with externalTrafficPolicy Local, pod and node traffic to an external destination
 *   is not subject to the Local policy (as in the iptables mode); shares `internal` when the
 *   internal policy is Cluster;
 * - `denied`: load-balancer traffic from outside loadBalancerSourceRanges (always dropped).
 *
 * Sharing is decided from the Service's shape, never from the current endpoints, so a frontend
 * (and its port) stays the same while endpoints come and go.
 */
import { KproxyError } from '../../core/errors.js';
import type { DesiredState, ServicePortState, TrafficVerdict } from '../../core/desired/types.js';
import type { EndpointInfo, ServicePortKey, SessionAffinity } from '../../core/model/service-port.js';
import { servicePortName } from '../../core/naming/service-port-name.js';

export type FrontendRole = 'internal' | 'external' | 'cluster' | 'denied';
const ROLE_ORDER: readonly FrontendRole[] = ['internal', 'external', 'cluster', 'denied'];

export type ProxyProtocol = 'TCP' | 'UDP';

export interface FrontendEndpoint {
  readonly ip: string;
  readonly port: number;
  /** `ip:port` (IPv6 bracketed). */
  readonly endpoint: string;
}

export interface Frontend {
  /** Stable identity: `ns/name:port/proto#role` (its first role). */
  readonly id: string;
  readonly key: ServicePortKey;
  /** `ns/name` or `ns/name:port` (kube-proxy's ServicePortName, used in rule comments). */
  readonly spn: string;
  readonly protocol: ProxyProtocol;
  /** Every kind of traffic this frontend receives, in ROLE_ORDER. */
  readonly roles: readonly FrontendRole[];
  /** forward: balance over `endpoints`; reject / drop: the filter table refuses or drops it. */
  readonly verdict: TrafficVerdict;
  /** The endpoints to balance over, sorted (empty unless the verdict is forward). */
  readonly endpoints: readonly FrontendEndpoint[];
  readonly affinity: SessionAffinity;
}

export interface SkippedServicePort {
  readonly spn: string;
  readonly reason: string;
}

/** One service port's frontends, by role (a shared frontend appears under each of its roles). */
export interface ServicePortFrontends {
  readonly sp: ServicePortState;
  readonly spn: string;
  readonly internal: Frontend;
  readonly external: Frontend | null;
  readonly cluster: Frontend | null;
  readonly denied: Frontend | null;
}

export interface ListenerPlan {
  readonly family: DesiredState['family'];
  /** Per handled service port, in the state's order. */
  readonly servicePorts: readonly ServicePortFrontends[];
  /** Every distinct frontend, in service port order, then internal, external, cluster, denied. */
  readonly frontends: readonly Frontend[];
  readonly skipped: readonly SkippedServicePort[];
}

interface RoleSpec {
  readonly role: FrontendRole;
  /** Roles with the same group share a frontend. */
  readonly group: string;
  readonly verdict: TrafficVerdict;
  readonly endpoints: readonly EndpointInfo[];
}

function toFrontendEndpoints(endpoints: readonly EndpointInfo[]): FrontendEndpoint[] {
  return endpoints
    .map((e) => ({ ip: e.ip, port: e.port, endpoint: e.endpoint }))
    .sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0));
}

function roleSpecs(sp: ServicePortState): RoleSpec[] {
  const { info, policy, selection } = sp;
  const endpointsOf = (p: 'cluster' | 'local'): readonly EndpointInfo[] =>
    p === 'local' ? selection.localEndpoints : selection.clusterEndpoints;
  const specs: RoleSpec[] = [
    { role: 'internal', group: policy.internalPolicy, verdict: policy.internalVerdict, endpoints: endpointsOf(policy.internalPolicy) },
  ];
  if (policy.externallyAccessible) {
    specs.push({
      role: 'external',
      group: policy.externalPolicy,
      verdict: policy.externalVerdict,
      endpoints: endpointsOf(policy.externalPolicy),
    });
    if (info.externalPolicyLocal) {
      const verdict: TrafficVerdict = policy.hasEndpoints ? 'forward' : 'reject';
      specs.push({ role: 'cluster', group: 'cluster', verdict, endpoints: selection.clusterEndpoints });
    }
    if (policy.usesFirewall) specs.push({ role: 'denied', group: 'denied', verdict: 'drop', endpoints: [] });
  }
  return specs;
}

function planServicePort(sp: ServicePortState, protocol: ProxyProtocol): ServicePortFrontends {
  const spn = servicePortName(sp.info.key, 'current');
  const byGroup = new Map<string, { spec: RoleSpec; roles: FrontendRole[] }>();
  for (const spec of roleSpecs(sp)) {
    const existing = byGroup.get(spec.group);
    if (existing === undefined) byGroup.set(spec.group, { spec, roles: [spec.role] });
    else existing.roles.push(spec.role);
  }
  const byRole = new Map<FrontendRole, Frontend>();
  for (const { spec, roles } of byGroup.values()) {
    roles.sort((a, b) => ROLE_ORDER.indexOf(a) - ROLE_ORDER.indexOf(b));
    const frontend: Frontend = {
      id: `${spn}/${protocol.toLowerCase()}#${roles[0] ?? spec.role}`,
      key: sp.info.key,
      spn,
      protocol,
      roles,
      verdict: spec.verdict,
      endpoints: spec.verdict === 'forward' ? toFrontendEndpoints(spec.endpoints) : [],
      affinity: sp.info.sessionAffinity,
    };
    for (const r of roles) byRole.set(r, frontend);
  }
  const internal = byRole.get('internal');
  if (internal === undefined) throw new KproxyError('E_INTERNAL', `${spn}: no internal frontend planned`);
  return {
    sp,
    spn,
    internal,
    external: byRole.get('external') ?? null,
    cluster: byRole.get('cluster') ?? null,
    denied: byRole.get('denied') ?? null,
  };
}

/** The frontends a desired state needs. SCTP service ports are skipped, as kube-proxy's userspace mode did. */
export function planListeners(state: DesiredState): ListenerPlan {
  const servicePorts: ServicePortFrontends[] = [];
  const skipped: SkippedServicePort[] = [];
  const frontends = new Map<string, Frontend>();
  for (const sp of state.servicePorts) {
    const protocol = sp.info.key.protocol;
    if (protocol === 'SCTP') {
      skipped.push({ spn: servicePortName(sp.info.key, 'current'), reason: 'SCTP is not supported for user space proxy' });
      continue;
    }
    const planned = planServicePort(sp, protocol);
    servicePorts.push(planned);
    for (const f of [planned.internal, planned.external, planned.cluster, planned.denied]) {
      if (f !== null) frontends.set(f.id, f);
    }
  }
  return { family: state.family, servicePorts, frontends: [...frontends.values()], skipped };
}

export function describeVerdict(verdict: TrafficVerdict): string {
  switch (verdict) {
    case 'forward':
      return 'balanced';
    case 'reject':
      return 'rejected (no endpoints)';
    case 'drop':
      return 'dropped';
  }
}
