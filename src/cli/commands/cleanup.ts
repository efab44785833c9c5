/** `kproxy cleanup`: remove everything kproxy installed (as `kube-proxy --cleanup`). */
import fs from 'node:fs';
import type { Command } from 'commander';
import type { IPFamily } from '../../core/model/objects.js';
import { cleanupIptables } from '../../daemon/cleanup.js';
import { cleanupUserspace } from '../../daemon/userspace-cleanup.js';
import { requireNetAdmin } from '../../runtime/capabilities.js';
import { IptablesTool } from '../../runtime/iptables/tool.js';
import { reexecInNetns } from '../../runtime/netns.js';

interface CleanupFlags {
  readonly netns?: string;
}

export function registerCleanupCommand(program: Command): void {
  program
    .command('cleanup')
    .description(
      'Remove the rules and chains kproxy installed in this network namespace (or --netns NAME), ' +
        'for every proxy mode, as kube-proxy --cleanup does; kubelet\'s KUBE-FIREWALL jumps stay.',
    )
    .option('--netns <name>', 'clean up inside this network namespace (re-executes under `ip netns exec`)')
    .action(async (opts: CleanupFlags) => {
      if (opts.netns !== undefined) {
        process.exitCode = await reexecInNetns(opts.netns, process.argv.slice(2));
        return;
      }
      requireNetAdmin('cleanup');
      const families: IPFamily[] = fs.existsSync('/proc/net/if_inet6') ? ['IPv4', 'IPv6'] : ['IPv4'];
      for (const f of families) {
        const tool = new IptablesTool(f);
        const iptables = await cleanupIptables(tool);
        const userspace = await cleanupUserspace(tool);
        const chains = iptables.deletedChains + userspace.deletedChains;
        process.stdout.write(`${f}: removed kproxy's jump rules and ${chains} chains\n`);
      }
    });
}
