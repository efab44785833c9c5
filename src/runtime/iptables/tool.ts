/**
 * The iptables commands of one IP family, run in the network namespace this process lives in
 * (the daemon is started under `ip netns exec` in tests and the demo). The only code that
 * changes netfilter state for the iptables mode.
 */
import fs from 'node:fs';
import type { IPFamily } from '../../core/model/objects.js';
import type { TableName } from '../../dataplanes/iptables/model.js';
import {
  NFACCT_CT_STATE_INVALID_DROPPED,
  NFACCT_LOCALHOST_NODEPORTS_ACCEPTED,
  type IptablesCapabilities,
} from '../../dataplanes/iptables/host.js';
import { runCommand, type RunResult } from '../exec/index.js';

/** xtables lock waits, as kube-proxy passes them (`-w 5 -W 100000`). */
const WAIT_FLAGS = ['-w', '5', '-W', '100000'];

export class IptablesTool {
  readonly iptables: string;
  readonly restoreCmd: string;
  readonly saveCmd: string;

  constructor(readonly family: IPFamily) {
    const prefix = family === 'IPv4' ? 'iptables' : 'ip6tables';
    this.iptables = prefix;
    this.restoreCmd = `${prefix}-restore`;
    this.saveCmd = `${prefix}-save`;
  }

  /** `iptables-restore --noflush --counters` fed with `text`; throws ExecError naming the failing line. */
  async restore(text: string): Promise<void> {
    await runCommand([this.restoreCmd, ...WAIT_FLAGS, '--noflush', '--counters'], { stdin: text, timeoutMs: 120_000 });
  }

  async save(table?: TableName): Promise<string> {
    const args = table === undefined ? [this.saveCmd] : [this.saveCmd, '-t', table];
    return (await runCommand(args, { timeoutMs: 60_000 })).stdout;
  }

  /** Chain names declared in a table (from `iptables-save -t TABLE`). */
  async listChains(table: TableName): Promise<string[]> {
    const text = await this.save(table);
    const out: string[] = [];
    for (const line of text.split('\n')) {
      if (line.startsWith(':')) out.push(line.slice(1).split(' ')[0] ?? '');
    }
    return out.filter((c) => c !== '');
  }

  private run(args: readonly string[], allowFailure = false): Promise<RunResult> {
    return runCommand([this.iptables, ...WAIT_FLAGS, ...args], { allowFailure, timeoutMs: 60_000 });
  }

  async ensureChain(table: TableName, chain: string): Promise<void> {
    const exists = await this.run(['-t', table, '-S', chain, '1'], true);
    if (exists.exitCode !== 0) await this.run(['-t', table, '-N', chain]);
  }

  /** Inserts the rule at position 1 unless an identical rule exists (kube-proxy's EnsureRule Prepend). */
  async ensureRulePrepended(table: TableName, chain: string, words: readonly string[]): Promise<boolean> {
    const check = await this.run(['-t', table, '-C', chain, ...words], true);
    if (check.exitCode === 0) return false;
    await this.run(['-t', table, '-I', chain, ...words]);
    return true;
  }

  /** Deletes every copy of the rule; absent rules and chains are fine. */
  async deleteRule(table: TableName, chain: string, words: readonly string[]): Promise<void> {
    for (let i = 0; i < 10; i++) {
      const r = await this.run(['-t', table, '-D', chain, ...words], true);
      if (r.exitCode !== 0) return;
    }
  }

  async capabilities(): Promise<IptablesCapabilities> {
    return {
      randomFully: await this.supportsRandomFully(),
      nfacctInvalidDropped: await ensureNfacctCounter(NFACCT_CT_STATE_INVALID_DROPPED),
      nfacctLocalhostNodePorts:
        this.family === 'IPv4' && (await ensureNfacctCounter(NFACCT_LOCALHOST_NODEPORTS_ACCEPTED)),
      tcpBeLiberal: readSysctl('net/netfilter/nf_conntrack_tcp_be_liberal') !== '0',
    };
  }

  /** iptables 1.6.2 added MASQUERADE --random-fully (kube-proxy checks the version the same way). */
  private async supportsRandomFully(): Promise<boolean> {
    const r = await this.run(['--version'], true);
    const m = /v(\d+)\.(\d+)\.(\d+)/.exec(r.stdout);
    if (m === null) return false;
    const v = [Number(m[1]), Number(m[2]), Number(m[3])];
    const [a = 0, b = 0, c = 0] = v;
    return a > 1 || (a === 1 && (b > 6 || (b === 6 && c >= 2)));
  }
}

/** Reads a sysctl of this network namespace; "0" when it cannot be read (conntrack not loaded). */
const ROUTE_LOCALNET = 'net/ipv4/conf/all/route_localnet';

/**
 * Sets net.ipv4.conf.all.route_localnet to 1 unless it already is (as kube-proxy does for
 * localhost NodePorts). The sysctl belongs to the network namespace this process runs in.
 */
export function ensureRouteLocalnet(): 'set' | 'already' {
  if (readSysctl(ROUTE_LOCALNET) === '1') return 'already';
  fs.writeFileSync(`/proc/sys/${ROUTE_LOCALNET}`, '1\n');
  return 'set';
}

function readSysctl(name: string): string {
  try {
    return fs.readFileSync(`/proc/sys/${name}`, 'utf8').trim();
  } catch {
    return '0';
  }
}

/** Creates an nfacct counter if missing (needs the `nfacct` tool); true when it exists afterwards. */
async function ensureNfacctCounter(name: string): Promise<boolean> {
  try {
    const list = await runCommand(['nfacct', 'get', name], { allowFailure: true, timeoutMs: 10_000 });
    if (list.exitCode === 0) return true;
    const add = await runCommand(['nfacct', 'add', name], { allowFailure: true, timeoutMs: 10_000 });
    return add.exitCode === 0;
  } catch {
    return false;
  }
}

export async function deleteNfacctCounter(name: string): Promise<void> {
  try {
    await runCommand(['nfacct', 'del', name], { allowFailure: true, timeoutMs: 10_000 });
  } catch {
    // The tool is missing: there is nothing kproxy could have created.
  }
}
