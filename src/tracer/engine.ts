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
import { cidrContains, joinHostPort, parseCIDR, type ParsedCIDR, type ParsedIP } from '../core/net/ip.js';
import type { TableName } from '../dataplanes/iptables/model.js';
import { applyAction, locatedError, type ActionHost } from './engine-actions.js';
import { cloneMachine, initialMachine, type Frame, type Machine } from './engine-machine.js';
import { evaluatePredicate, type PredicateContext } from './engine-predicates.js';
import { routeStages } from './engine-stages.js';
import { decideSource, describeSource, isPlainPredicate, isSourcePredicate, outcomeConditions, passesThrough, stepConditions } from './engine-symbolic.js';
import type { Hook, IrChain, IrProgram, IrRule } from './ir.js';
import type { EngineRun, PathStep, TraceEnvironment, TraceLeaf, TracePacket, Verdict } from './packet.js';
import { Rational } from './rational.js';

const MAX_LEAVES = 50_000;

class Tracer implements ActionHost {
  readonly leaves: TraceLeaf[] = [];
  readonly path: PathStep[] = [];
  readonly notes = new Set<string>();
  private readonly local: ParsedCIDR[];

  constructor(
    readonly program: IrProgram,
    private readonly packet: TracePacket,
    readonly env: TraceEnvironment,
  ) {
    this.local = ['127.0.0.0/8', '::1/128', ...env.nodeIPs.map((ip) => (ip.includes('/') ? ip : `${ip}/${ip.includes(':') ? 128 : 32}`))]
      .map((c) => parseCIDR(c))
      .filter((c): c is ParsedCIDR => c !== null);
  }

  private isLocal(ip: ParsedIP): boolean {
    return this.local.some((c) => cidrContains(c, ip));
  }

  start(entry: ChainEntry | null): void {
    const machine = initialMachine(this.packet, this.env);
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

  enter(m: Machine, table: TableName, chain: IrChain): void {
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

  finish(m: Machine, verdict: Verdict, decidedAt: TraceLeaf['decidedAt'], rejectWith: string | null = null): void {
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
        throw locatedError(e, frame, rule);
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
    return applyAction(this, m, frame, rule);
  }

  private noMatch(m: Machine, frame: Frame, rule: IrRule): boolean {
    frame.predicate = 0;
    frame.index++;
    this.step(m, frame, rule, false);
    return true;
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
