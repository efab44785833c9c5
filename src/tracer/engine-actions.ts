/**
 * What a matched rule does to its branch: jumps and gotos, RETURN, the final verdicts (ACCEPT,
 * DROP, REJECT), NAT (DNAT, REDIRECT, SNAT / MASQUERADE) and marks. A target the tracer cannot
 * evaluate stops the trace with an error naming the rule and its line.
 */
import { KproxyError } from '../core/errors.js';
import type { TableName } from '../dataplanes/iptables/model.js';
import { parseAddress, type Frame, type Machine } from './engine-machine.js';
import type { IrChain, IrProgram, IrRule } from './ir.js';
import type { TraceEnvironment, TraceLeaf, Verdict } from './packet.js';

const MAX_DEPTH = 64;

/** What the actions need of the engine running them. */
export interface ActionHost {
  readonly program: IrProgram;
  readonly env: TraceEnvironment;
  finish(m: Machine, verdict: Verdict, decidedAt: TraceLeaf['decidedAt'], rejectWith?: string | null): void;
  enter(m: Machine, table: TableName, chain: IrChain): void;
}

/** An E_TRACE error naming the rule (its line, table and chain) the trace could not get past. */
export function locatedError(e: unknown, frame: Frame, rule: IrRule): KproxyError {
  const where = `${rule.line !== null ? `line ${rule.line}` : rule.assumed ? 'an assumed rule' : `rule ${rule.position}`} (table ${frame.table}, chain ${frame.chain.name})`;
  const message = e instanceof Error ? e.message : String(e);
  return new KproxyError('E_TRACE', `cannot trace past ${where}: ${message}; rule: ${rule.text}`, { cause: e });
}

/** Applies a matched rule's action to its branch; false when the branch ended. */
export function applyAction(host: ActionHost, m: Machine, frame: Frame, rule: IrRule): boolean {
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
      const chain = host.program.tables.get(frame.table)?.chains.get(action.chain);
      if (chain === undefined) throw locatedError(new Error(`no chain ${action.chain}`), frame, rule);
      if (m.stack.length >= MAX_DEPTH) throw locatedError(new Error(`more than ${MAX_DEPTH} nested jumps (a loop?)`), frame, rule);
      if (action.kind === 'goto') {
        // A goto does not come back here: the called chain returns to this chain's caller.
        if (frame.chain.builtin) frame.index = frame.chain.rules.length;
        else m.stack.pop();
      }
      host.enter(m, frame.table, chain);
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
      host.finish(m, 'DROP', decidedAt);
      return false;
    case 'reject':
      host.finish(m, 'REJECT', decidedAt, action.rejectWith);
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
      const nodeIP = host.env.nodeIPs.find((ip) => ip.includes(':') !== v4);
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
      throw locatedError(new Error(action.description), frame, rule);
  }
}
