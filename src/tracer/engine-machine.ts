/**
 * The state of one branch of a trace: the packet as the rules have changed it, the probability
 * of reaching this point, the stages still to run, and the stack of chains being evaluated.
 * A fork (a random rule, or a test of a symbolic source) clones the machine.
 */
import { KproxyError } from '../core/errors.js';
import { parseIP, type ParsedIP } from '../core/net/ip.js';
import type { TableName } from '../dataplanes/iptables/model.js';
import type { PacketState } from './engine-predicates.js';
import type { SourceAssumption, SourceTest } from './engine-symbolic.js';
import { LOCAL_OUT, PRE, type Stage } from './engine-stages.js';
import type { Hook, IrChain } from './ir.js';
import { NO_RECENT, type RecentTables, type TraceEnvironment, type TracePacket } from './packet.js';
import { Rational } from './rational.js';

export interface Frame {
  readonly table: TableName;
  readonly chain: IrChain;
  /** Next rule to evaluate (0-based). */
  index: number;
  /** Next predicate of that rule (non-zero after a fork decided one). */
  predicate: number;
  /** With a symbolic source: how many source tests the branch had made when it entered the chain, and when its current rule's evaluation began. */
  readonly since: number;
  ruleStart: number;
}

export interface Machine {
  packet: PacketState;
  probability: Rational;
  stages: Stage[];
  hook: Hook;
  stack: Frame[];
  explicitAccept: boolean;
  masquerade: boolean;
  /**
   * With a symbolic source: what this branch assumed about it (where it forked), every source
   * test's outcome in order (assumed or implied by earlier assumptions), and the chains it
   * entered (`table/chain`).
   */
  assumptions: readonly SourceAssumption[];
  tests: readonly SourceTest[];
  trail: readonly string[];
}

export function parseAddress(text: string, what: string): ParsedIP {
  const ip = parseIP(text);
  if (ip === null) throw new KproxyError('E_USAGE', `${what} is not an IP address: ${text}`);
  return ip;
}

function copyRecent(recent: RecentTables): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const [name, table] of recent) out.set(name, new Map(table));
  return out;
}

/** The machine of a packet as it arrives: before the first stage, with probability 1. */
export function initialMachine(p: TracePacket, env: TraceEnvironment): Machine {
  const fromNode = p.from === 'node';
  return {
    packet: {
      src: parseAddress(p.src, 'the source'),
      dst: parseAddress(p.dst, 'the destination'),
      protocol: p.protocol,
      sport: p.sport,
      dport: p.dport,
      mark: p.mark ?? 0,
      dnat: false,
      snat: false,
      recent: copyRecent(env.recent ?? NO_RECENT),
      affinity: false,
    },
    probability: Rational.ONE,
    stages: [...(fromNode ? LOCAL_OUT : PRE)],
    hook: fromNode ? 'OUTPUT' : 'PREROUTING',
    stack: [],
    explicitAccept: false,
    masquerade: false,
    assumptions: [],
    tests: [],
    trail: [],
  };
}

/** An independent copy for the other side of a fork (the packet's recent tables included). */
export function cloneMachine(m: Machine): Machine {
  return {
    ...m,
    packet: { ...m.packet, recent: copyRecent(m.packet.recent) },
    stages: [...m.stages],
    stack: m.stack.map((f) => ({ ...f })),
  };
}
