/**
 * The tracer's engine: evaluates the first packet of a connection through the IR's tables in
 * netfilter's hook order, and follows BOTH outcomes of every random rule, so the result is the
 * exact distribution of outcomes rather than a sample.
 *
 * From a pod or from outside: PREROUTING (raw, mangle, nat), then — by the destination after
 * DNAT — INPUT (mangle, filter, security, nat) for the node itself, or FORWARD (mangle, filter,
 * security) and POSTROUTING (mangle, nat). From the node: OUTPUT (raw, mangle, nat, filter,
 * security), POSTROUTING (mangle, nat), and for a local destination INPUT (mangle, filter,
 * security) after the loopback; NAT tables are consulted once per connection per hook, as the
 * kernel does. A predicate or target the tracer cannot evaluate stops the trace (E_TRACE)
 * naming the rule and its line — only when a packet reaches it.
 */
import { KproxyError } from '../core/errors.js';
import { cidrContains, joinHostPort, parseCIDR, parseIP, type ParsedCIDR, type ParsedIP } from '../core/net/ip.js';
import type { TableName } from '../dataplanes/iptables/model.js';
import { evaluatePredicate, type PacketState, type PredicateContext } from './engine-predicates.js';
import {
  decideSource,
  describeSource,
  isPlainPredicate,
  isSourcePredicate,
  outcomeConditions,
  passesThrough,
  stepConditions,
  type SourceAssumption,
  type SourceTest,
} from './engine-symbolic.js';
import type { Hook, IrChain, IrProgram, IrRule } from './ir.js';
import {
  NO_RECENT,
  type EngineRun,
  type PathStep,
  type RecentTables,
  type TraceEnvironment,
  type TraceLeaf,
  type TracePacket,
  type Verdict,
} from './packet.js';
import { Rational } from './rational.js';

const MAX_DEPTH = 64;
const MAX_LEAVES = 50_000;

type Stage = { readonly hook: Hook; readonly table: TableName } | 'route';

interface Frame {
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

interface Machine {
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

const PRE: readonly Stage[] = [
  { hook: 'PREROUTING', table: 'raw' },
  { hook: 'PREROUTING', table: 'mangle' },
  { hook: 'PREROUTING', table: 'nat' },
  'route',
];
const LOCAL_OUT: readonly Stage[] = [
  { hook: 'OUTPUT', table: 'raw' },
  { hook: 'OUTPUT', table: 'mangle' },
  { hook: 'OUTPUT', table: 'nat' },
  { hook: 'OUTPUT', table: 'filter' },
  { hook: 'OUTPUT', table: 'security' },
  { hook: 'POSTROUTING', table: 'mangle' },
  { hook: 'POSTROUTING', table: 'nat' },
  'route',
];

function routeStages(local: boolean, fromNode: boolean): Stage[] {
  if (fromNode) {
    if (!local) return [];
    return [
      { hook: 'PREROUTING', table: 'raw' },
      { hook: 'PREROUTING', table: 'mangle' },
      { hook: 'INPUT', table: 'mangle' },
      { hook: 'INPUT', table: 'filter' },
      { hook: 'INPUT', table: 'security' },
    ];
  }
  if (local) {
    return [
      { hook: 'INPUT', table: 'mangle' },
      { hook: 'INPUT', table: 'filter' },
      { hook: 'INPUT', table: 'security' },
      { hook: 'INPUT', table: 'nat' },
    ];
  }
  return [
    { hook: 'FORWARD', table: 'mangle' },
    { hook: 'FORWARD', table: 'filter' },
    { hook: 'FORWARD', table: 'security' },
    { hook: 'POSTROUTING', table: 'mangle' },
    { hook: 'POSTROUTING', table: 'nat' },
  ];
}

function cloneMachine(m: Machine): Machine {
  const recent = new Map<string, Map<string, number>>();
  for (const [name, table] of m.packet.recent) recent.set(name, new Map(table));
  return {
    ...m,
    packet: { ...m.packet, recent },
    stages: [...m.stages],
    stack: m.stack.map((f) => ({ ...f })),
  };
}

function parseAddress(text: string, what: string): ParsedIP {
  const ip = parseIP(text);
  if (ip === null) throw new KproxyError('E_USAGE', `${what} is not an IP address: ${text}`);
  return ip;
}

function copyRecent(recent: RecentTables): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const [name, table] of recent) out.set(name, new Map(table));
  return out;
}

class Tracer {
  readonly leaves: TraceLeaf[] = [];
  readonly path: PathStep[] = [];
  readonly notes = new Set<string>();
  private readonly local: ParsedCIDR[];

  constructor(
    private readonly program: IrProgram,
    private readonly packet: TracePacket,
    private readonly env: TraceEnvironment,
  ) {
    this.local = ['127.0.0.0/8', '::1/128', ...env.nodeIPs.map((ip) => (ip.includes('/') ? ip : `${ip}/${ip.includes(':') ? 128 : 32}`))]
      .map((c) => parseCIDR(c))
      .filter((c): c is ParsedCIDR => c !== null);
  }

  private isLocal(ip: ParsedIP): boolean {
    return this.local.some((c) => cidrContains(c, ip));
  }

  start(entry: ChainEntry | null): void {
    const p = this.packet;
    const fromNode = p.from === 'node';
    const machine: Machine = {
      packet: {
        src: parseAddress(p.src, 'the source'),
        dst: parseAddress(p.dst, 'the destination'),
        protocol: p.protocol,
        sport: p.sport,
        dport: p.dport,
        mark: p.mark ?? 0,
        dnat: false,
        snat: false,
        recent: copyRecent(this.env.recent ?? NO_RECENT),
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
    if (entry !== null) {
      const chain = this.program.tables.get(entry.table)?.chains.get(entry.chain);
      if (chain === undefined) throw new KproxyError('E_TRACE', `no chain ${entry.chain} in table ${entry.table}`);
      machine.stages = [];
      machine.hook = entry.hook;
      this.enter(machine, entry.table, chain);
    }
    this.run(machine);
  }

  private get symbolic(): boolean {
    return this.env.symbolicSource === true;
  }

  private enter(m: Machine, table: TableName, chain: IrChain): void {
    m.stack.push({ table, chain, index: 0, predicate: 0, since: m.tests.length, ruleStart: m.tests.length });
    if (this.symbolic) m.trail = [...m.trail, `${table}/${chain.name}`];
  }

  private assumed(m: Machine): Pick<TraceLeaf, 'assumptions' | 'conditions'> {
    if (!this.symbolic) return {};
    return { assumptions: m.assumptions.map((a) => describeSource(a.predicate, a.holds)), conditions: outcomeConditions(m.tests) };
  }

  /** A step's assumptions: all of the branch's, and the outcomes of the source tests that decided the step in its chain. */
  private stepAssumptions(m: Machine, frame: Frame): Pick<PathStep, 'assumptions' | 'conditions'> {
    if (!this.symbolic) return {};
    return { assumptions: m.assumptions.map((a) => describeSource(a.predicate, a.holds)), conditions: stepConditions(m.tests, frame.since, frame.ruleStart) };
  }

  private context(m: Machine): PredicateContext {
    const p = this.packet;
    const inInterface = p.inInterface !== undefined ? p.inInterface : p.from === 'external' ? 'eth0' : p.from === 'node' ? '' : null;
    return { hook: m.hook, inInterface, outInterface: p.outInterface ?? null, local: this.local, ipsets: this.env.ipsets, notes: this.notes };
  }

  private finish(m: Machine, verdict: Verdict, decidedAt: TraceLeaf['decidedAt'], rejectWith: string | null = null): void {
    if (this.leaves.length >= MAX_LEAVES) throw new KproxyError('E_TRACE', `more than ${MAX_LEAVES} outcomes: the rules branch too much to trace`);
    const endpoint = m.packet.dnat ? joinHostPort(m.packet.dst.text, m.packet.dport) : null;
    this.leaves.push({
      verdict,
      endpoint,
      probability: m.probability,
      masquerade: m.masquerade,
      decidedAt,
      rejectWith,
      recent: m.packet.recent,
      affinity: m.packet.affinity,
      ...this.assumed(m),
      ...(this.symbolic ? { trail: m.trail } : {}),
    });
  }

  private step(m: Machine, frame: Frame, rule: IrRule | null, matched: boolean): void {
    const chain = frame.chain;
    this.path.push({
      hook: m.hook,
      table: frame.table,
      chain: chain.name,
      line: rule?.line ?? null,
      assumed: rule?.assumed ?? false,
      position: rule?.position ?? null,
      rule: rule?.text ?? `policy ${chain.policy ?? 'ACCEPT (not in the input: assumed)'}`,
      matched,
      probability: m.probability,
      depth: m.stack.length - 1,
      ...this.stepAssumptions(m, frame),
    });
  }

  /** Runs one branch to its end; forks recurse (the matching side first, so the path reads depth-first). */
  private run(m: Machine): void {
    for (;;) {
      const frame = m.stack[m.stack.length - 1];
      if (frame === undefined) {
        const stage = m.stages.shift();
        if (stage === undefined) {
          this.finish(m, m.packet.dnat ? 'DNAT' : m.explicitAccept ? 'ACCEPT' : 'NO_SERVICE', null);
          return;
        }
        if (stage === 'route') {
          m.stages.unshift(...routeStages(this.isLocal(m.packet.dst), this.packet.from === 'node'));
          continue;
        }
        const chain = this.program.tables.get(stage.table)?.chains.get(stage.hook);
        if (chain === undefined) continue;
        m.hook = stage.hook;
        this.enter(m, stage.table, chain);
        continue;
      }
      const rule = frame.chain.rules[frame.index];
      if (rule === undefined) {
        if (!this.endOfChain(m, frame)) return;
        continue;
      }
      if (!this.evaluateRule(m, frame, rule)) return;
    }
  }

  /** Falls off the end of a chain: back to the caller, or the built-in chain's policy. False when the branch ended. */
  private endOfChain(m: Machine, frame: Frame): boolean {
    if (frame.chain.builtin) this.step(m, frame, null, true);
    m.stack.pop();
    if (!frame.chain.builtin) return true;
    if (frame.chain.policy === 'DROP') {
      this.finish(m, 'DROP', { table: frame.table, chain: frame.chain.name, line: null });
      return false;
    }
    if (frame.chain.policy === null) this.notes.add(`policy of ${frame.table} ${frame.chain.name} not in the input: assumed ACCEPT`);
    m.stack.length = 0;
    return true;
  }

  /** Evaluates the frame's current rule; false when the branch ended. */
  private evaluateRule(m: Machine, frame: Frame, rule: IrRule): boolean {
    const ctx = this.context(m);
    // With a symbolic source, a rule that cannot match anyway is skipped before forking on its source test.
    if (this.symbolic && frame.predicate === 0) {
      if (rule.predicates.some((p) => isPlainPredicate(p) && evaluatePredicate(p, m.packet, ctx) === false)) return this.noMatch(m, frame, rule);
      frame.ruleStart = m.tests.length;
    }
    for (let i = frame.predicate; i < rule.predicates.length; i++) {
      const pred = rule.predicates[i];
      if (pred === undefined) continue;
      if (this.symbolic && isSourcePredicate(pred)) {
        const known = decideSource(pred, m.packet.src.family, m.assumptions);
        const passThrough = passesThrough(rule, this.program.tables.get(frame.table));
        if (known !== null) {
          m.tests = [...m.tests, { text: describeSource(pred, known), passThrough }];
          if (!known) return this.noMatch(m, frame, rule);
          continue;
        }
        const holdingSide = cloneMachine(m);
        holdingSide.assumptions = [...m.assumptions, { predicate: pred, holds: true }];
        holdingSide.tests = [...m.tests, { text: describeSource(pred, true), passThrough }];
        const top = holdingSide.stack[holdingSide.stack.length - 1];
        if (top !== undefined) top.predicate = i + 1;
        this.run(holdingSide);
        m.assumptions = [...m.assumptions, { predicate: pred, holds: false }];
        m.tests = [...m.tests, { text: describeSource(pred, false), passThrough }];
        return this.noMatch(m, frame, rule);
      }
      let result;
      try {
        result = evaluatePredicate(pred, m.packet, ctx);
      } catch (e) {
        throw this.located(e, frame, rule);
      }
      if (typeof result === 'boolean') {
        if (!result) return this.noMatch(m, frame, rule);
        continue;
      }
      const matchedSide = cloneMachine(m);
      matchedSide.probability = m.probability.mul(result);
      const top = matchedSide.stack[matchedSide.stack.length - 1];
      if (top !== undefined) top.predicate = i + 1;
      this.run(matchedSide);
      m.probability = m.probability.mul(Rational.ONE.sub(result));
      return this.noMatch(m, frame, rule);
    }
    frame.predicate = 0;
    frame.index++;
    this.step(m, frame, rule, true);
    return this.act(m, frame, rule);
  }

  private noMatch(m: Machine, frame: Frame, rule: IrRule): boolean {
    frame.predicate = 0;
    frame.index++;
    this.step(m, frame, rule, false);
    return true;
  }

  private located(e: unknown, frame: Frame, rule: IrRule): KproxyError {
    const where = `${rule.line !== null ? `line ${rule.line}` : rule.assumed ? 'an assumed rule' : `rule ${rule.position}`} (table ${frame.table}, chain ${frame.chain.name})`;
    const message = e instanceof Error ? e.message : String(e);
    return new KproxyError('E_TRACE', `cannot trace past ${where}: ${message}; rule: ${rule.text}`, { cause: e });
  }

  /** Applies a matched rule's action; false when the branch ended. */
  private act(m: Machine, frame: Frame, rule: IrRule): boolean {
    const action = rule.action;
    const decidedAt = { table: frame.table, chain: frame.chain.name, line: rule.line };
    switch (action.kind) {
      case 'continue':
      case 'log':
        return true;
      case 'mark':
        m.packet.mark = ((m.packet.mark & ~action.mask) ^ action.value) >>> 0;
        return true;
      case 'jump':
      case 'goto': {
        const chain = this.program.tables.get(frame.table)?.chains.get(action.chain);
        if (chain === undefined) throw this.located(new Error(`no chain ${action.chain}`), frame, rule);
        if (m.stack.length >= MAX_DEPTH) throw this.located(new Error(`more than ${MAX_DEPTH} nested jumps (a loop?)`), frame, rule);
        if (action.kind === 'goto') {
          // A goto does not come back here: the called chain returns to this chain's caller.
          if (frame.chain.builtin) frame.index = frame.chain.rules.length;
          else m.stack.pop();
        }
        this.enter(m, frame.table, chain);
        return true;
      }
      case 'return':
        m.stack.pop();
        if (frame.chain.builtin) {
          frame.index = frame.chain.rules.length;
          m.stack.push(frame);
        }
        return true;
      case 'accept':
        if (frame.table === 'filter') m.explicitAccept = true;
        m.stack.length = 0;
        return true;
      case 'drop':
        this.finish(m, 'DROP', decidedAt);
        return false;
      case 'reject':
        this.finish(m, 'REJECT', decidedAt, action.rejectWith);
        return false;
      case 'dnat': {
        if (action.address !== null) m.packet.dst = parseAddress(action.address, 'the DNAT address');
        if (action.port !== null) m.packet.dport = action.port;
        m.packet.dnat = true;
        m.stack.length = 0;
        return true;
      }
      case 'redirect': {
        const v4 = m.packet.dst.family === 'IPv4';
        const nodeIP = this.env.nodeIPs.find((ip) => ip.includes(':') !== v4);
        const self = m.hook === 'OUTPUT' || nodeIP === undefined ? (v4 ? '127.0.0.1' : '::1') : nodeIP;
        m.packet.dst = parseAddress(self, 'the node address');
        if (action.port !== null) m.packet.dport = action.port;
        m.packet.dnat = true;
        m.stack.length = 0;
        return true;
      }
      case 'snat':
        m.masquerade = true;
        m.packet.snat = true;
        m.stack.length = 0;
        return true;
      case 'unsupported':
        throw this.located(new Error(action.description), frame, rule);
    }
  }
}

/** Where a partial run starts instead of the built-in hooks (explain evaluates one service's chain). */
export interface ChainEntry {
  readonly table: TableName;
  readonly chain: string;
  readonly hook: Hook;
}

/**
 * Traces one packet; throws E_TRACE when its path reaches something the tracer cannot evaluate.
 * With `entry`, only that chain (and what it calls) is evaluated.
 */
export function runTrace(program: IrProgram, packet: TracePacket, env: TraceEnvironment, entry: ChainEntry | null = null): EngineRun {
  const tracer = new Tracer(program, packet, env);
  tracer.start(entry);
  return { leaves: tracer.leaves, path: tracer.path, notes: [...program.notes, ...tracer.notes] };
}
