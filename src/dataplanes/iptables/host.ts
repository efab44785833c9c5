/**
 * What the iptables renderer needs to know about the host it writes to. The daemon detects it;
 * the offline `rules` command assumes a current node (CURRENT_NODE_CAPABILITIES).
 */

/** nfacct counters kube-proxy uses when they exist (reference §5.3, §5.4 step 5). */
export const NFACCT_CT_STATE_INVALID_DROPPED = 'ct_state_invalid_dropped_pkts';
export const NFACCT_LOCALHOST_NODEPORTS_ACCEPTED = 'localhost_nps_accepted_pkts';

export interface IptablesCapabilities {
  /** iptables >= 1.6.2: MASQUERADE gets `--random-fully`. */
  readonly randomFully: boolean;
  /** The `ct_state_invalid_dropped_pkts` nfacct counter exists (INVALID drop rule counts into it). */
  readonly nfacctInvalidDropped: boolean;
  /** The `localhost_nps_accepted_pkts` nfacct counter exists (localhost NodePort rules). */
  readonly nfacctLocalhostNodePorts: boolean;
  /** `net.netfilter.nf_conntrack_tcp_be_liberal` is non-zero: no INVALID drop rule. */
  readonly tcpBeLiberal: boolean;
}

export interface IptablesHostState {
  readonly capabilities: IptablesCapabilities;
  /**
   * Names of the chains that exist in the kernel's nat table right now (from `iptables-save -t nat`).
   * Service chains among them that this sync does not use are flushed and deleted (`-X`).
   * `null` skips stale-chain cleanup for this sync (kube-proxy's large-cluster mode does that
   * between cleanups, reference §5.6).
   */
  readonly existingNatChains: readonly string[] | null;
}

export const CURRENT_NODE_CAPABILITIES: IptablesCapabilities = {
  randomFully: true,
  nfacctInvalidDropped: true,
  nfacctLocalhostNodePorts: true,
  tcpBeLiberal: false,
};

/** A fresh current node: nothing in the kernel yet. */
export const FRESH_CURRENT_NODE: IptablesHostState = {
  capabilities: CURRENT_NODE_CAPABILITIES,
  existingNatChains: [],
};
