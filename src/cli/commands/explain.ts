/**
 * `kproxy explain DUMP`: every service found in a node's rules, with addresses, ports, policies
 * and endpoints with exact probabilities, and the anomalies of the ruleset. With -f manifests,
 * services whose rules carry no comments are named by matching chain hashes.
 */
import type { Command } from 'commander';
import type { DesiredState } from '../../core/desired/types.js';
import { servicePortChainNames } from '../../dataplanes/iptables/names.js';
import { explainProgram, NODE_ADDRESS, serviceAddressKey, type AddressNameIndex, type ChainNameIndex } from '../../tracer/explain.js';
import { explainJson, formatExplain } from '../../tracer/report.js';
import type { RulesFlagValues } from './rules.js';
import { addManifestOptions, describeOption, DUMP_HELP, manifestStates, readDumpProgram } from './trace.js';

interface ExplainFlagValues extends RulesFlagValues {
  readonly json?: boolean;
}

/** Chain names of every service port of the manifests' states, in the current and the 1.18 format. */
export function chainNameIndex(states: readonly DesiredState[]): ChainNameIndex {
  const index = new Map<string, { name: string; port: string }>();
  for (const state of states) {
    for (const sp of state.servicePorts) {
      const key = sp.info.key;
      const value = { name: `${key.namespace}/${key.name}`, port: key.portName };
      for (const format of ['current', 'legacy'] as const) {
        const n = servicePortChainNames(key, format);
        for (const chain of [n.svc, n.svl, n.ext, n.fw, n.xlb]) index.set(chain, value);
      }
    }
  }
  return index;
}

/** Every service address of the manifests' states (cluster, external and load-balancer IPs, node ports) → its service port. */
export function serviceAddressIndex(states: readonly DesiredState[]): AddressNameIndex {
  const index = new Map<string, { name: string; port: string; loadBalancer: boolean }>();
  for (const state of states) {
    for (const sp of state.servicePorts) {
      const { key, port, nodePort } = sp.info;
      const value = { name: `${key.namespace}/${key.name}`, port: key.portName };
      const add = (dst: string, p: number, loadBalancer: boolean): void => {
        index.set(serviceAddressKey(key.protocol, dst, p), { ...value, loadBalancer });
      };
      add(sp.info.clusterIP, port, false);
      for (const ip of sp.info.externalIPs) add(ip, port, false);
      for (const ip of sp.info.loadBalancerVIPs) add(ip, port, true);
      if (nodePort !== 0) add(NODE_ADDRESS, nodePort, false);
    }
  }
  return index;
}

async function runExplain(dump: string, opts: ExplainFlagValues): Promise<void> {
  const program = await readDumpProgram(dump);
  const files = opts.filename ?? [];
  const states = files.length === 0 ? [] : await manifestStates(opts, 'explain');
  const explanation = explainProgram(program, chainNameIndex(states), serviceAddressIndex(states));
  if (opts.json === true) process.stdout.write(`${JSON.stringify(explainJson(explanation, program.notes), null, 2)}\n`);
  else process.stdout.write(formatExplain(explanation, program.notes));
}

export function registerExplainCommand(program: Command): void {
  const cmd = program
    .command('explain')
    .argument('<dump>', 'the node\'s rules: iptables-save output, iptables-restore input or bare rule lines (- for stdin)')
    .description(
      'Explain a node\'s rules: a table of every service (named from kube-proxy\'s comments, or by chain hashes of -f manifests) ' +
        'with its cluster IP, node ports, external and load-balancer IPs, source ranges, affinity, traffic policies and endpoints ' +
        'with their exact probabilities; then anomalies (services without endpoints, unreachable, stale or orphaned chains, ' +
        'jumps to missing chains, shadowed rules, chains the tracer cannot follow).',
    )
    .option('--json', 'print only JSON on stdout: {services: [...], anomalies: [...], notes: [...]}');
  addManifestOptions(cmd);
  describeOption(cmd, '-f', 'manifests (YAML/JSON file, folder, or -; repeatable): name the services of a dump without comments by their chain hashes');
  cmd.addHelpText(
    'after',
    `${DUMP_HELP}\n\nWith -f, the proxy flags (--hostname-override, --cluster-cidr, ...) are read as for \`kproxy rules\`;\nonly the services' names and ports are used, to recognise their chains.\n`,
  );
  cmd.action(async (dump: string, opts: ExplainFlagValues) => {
    await runExplain(dump, opts);
  });
}
