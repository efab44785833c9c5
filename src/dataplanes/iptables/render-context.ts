/**
 * Values every part of the current-format renderer reads, computed once per render.
 */
import type { DesiredState, LocalTrafficDetector, ServicePortState, TrafficVerdict } from '../../core/desired/types.js';
import type { IptablesCapabilities } from './host.js';
import { endpointChainName, servicePortChainNames, type ServicePortChainNames } from './names.js';
import { formatMark } from './words.js';

export interface RenderContext {
  readonly state: DesiredState;
  readonly caps: IptablesCapabilities;
  readonly isIPv6: boolean;
  /** `0x00004000` (Go `%#08x`). */
  readonly mark: string;
  /** `0x00004000/0x00004000`. */
  readonly markWithMask: string;
  /** Localhost NodePorts in effect: requested, and the family is IPv4. */
  readonly localhostNodePorts: boolean;
  readonly detector: LocalTrafficDetector | null;
  readonly largeClusterMode: boolean;
}

export function makeRenderContext(state: DesiredState, caps: IptablesCapabilities): RenderContext {
  const mark = formatMark(state.masqueradeMark);
  const isIPv6 = state.family === 'IPv6';
  return {
    state,
    caps,
    isIPv6,
    mark,
    markWithMask: `${mark}/${mark}`,
    localhostNodePorts: state.localhostNodePorts && !isIPv6,
    detector: state.localDetector,
    largeClusterMode: state.largeClusterMode,
  };
}

/** One service port with the chain names and jump targets the templates use. */
export interface ServicePortPlan {
  readonly sp: ServicePortState;
  readonly names: ServicePortChainNames;
  /** Where ClusterIP traffic goes (SVC or SVL). */
  readonly internalChain: string;
  /** Where external traffic finally goes from EXT (SVC or SVL). */
  readonly externalPolicyChain: string;
  /** Where LoadBalancer IP traffic goes (FW when source ranges are in use, else EXT). */
  readonly loadBalancerChain: string;
  /** The KUBE-SEP-* chain of one of this service port's endpoints (computed once per render). */
  sepName(endpoint: string): string;
}

export function planServicePort(sp: ServicePortState): ServicePortPlan {
  const names = servicePortChainNames(sp.info.key, 'current');
  const { policy } = sp;
  const seps = new Map<string, string>();
  return {
    sp,
    names,
    internalChain: policy.internalPolicy === 'local' ? names.svl : names.svc,
    externalPolicyChain: policy.externalPolicy === 'local' ? names.svl : names.svc,
    loadBalancerChain: policy.usesFirewall ? names.fw : names.ext,
    sepName(endpoint: string): string {
      let name = seps.get(endpoint);
      if (name === undefined) {
        name = endpointChainName(names, endpoint);
        seps.set(endpoint, name);
      }
      return name;
    },
  };
}

/** Every nat chain this service port owns in this sync (declared when its chains are written). */
export function activeChainsOf(plan: ServicePortPlan): string[] {
  const { policy, selection } = plan.sp;
  const out: string[] = [];
  if (policy.usesExternalChain) out.push(plan.names.ext);
  if (policy.usesFirewall) out.push(plan.names.fw);
  if (policy.usesClusterPolicy) out.push(plan.names.svc);
  if (policy.usesLocalPolicy) out.push(plan.names.svl);
  for (const ep of selection.allReachableEndpoints) out.push(plan.sepName(ep.endpoint));
  return out;
}

/** `-j REJECT` / `-j DROP` and the comment that goes with it, for a verdict that is not `forward`. */
export function filterVerdict(
  spn: string,
  verdict: Exclude<TrafficVerdict, 'forward'>,
): { readonly target: string; readonly comment: string } {
  switch (verdict) {
    case 'reject':
      return { target: 'REJECT', comment: `${spn} has no endpoints` };
    case 'drop':
      return { target: 'DROP', comment: `${spn} has no local endpoints` };
  }
}
