/** kube-proxy's local-traffic detector (--detect-local-mode), per family. */
import { parseCIDR } from '../net/ip.js';
import type { DiagnosticSink } from '../model/diagnostics.js';
import type { ProxyConfig } from '../model/config.js';
import type { IPFamily } from '../model/objects.js';
import type { LocalTrafficDetector } from './types.js';
import type { NodeView } from './node.js';
import { optionDiagnostic } from './option-diagnostics.js';

export function localDetector(
  config: ProxyConfig,
  family: IPFamily,
  node: NodeView,
  sink: DiagnosticSink,
): LocalTrafficDetector | null {
  switch (config.detectLocalMode) {
    case 'ClusterCIDR': {
      for (const c of config.clusterCIDRs) {
        const p = parseCIDR(c.trim());
        if (p?.family === family) return { kind: 'cidr', cidr: p.text };
      }
      return null;
    }
    case 'NodeCIDR': {
      const cidr = node.podCIDRs[0];
      if (cidr !== undefined) return { kind: 'cidr', cidr };
      if (node.node === null) {
        const message = `NodeCIDR: no Node object named "${node.name}" was given, so no ${family} traffic is detected as local (give the Node, with its spec.podCIDRs)`;
        sink.add(optionDiagnostic(config, { flag: '--detect-local-mode', field: 'detectLocalMode' }, 'warning', message));
        return null;
      }
      sink.add({
        severity: 'warning',
        source: node.node.meta.source,
        kind: 'Node',
        object: node.name,
        field: 'spec.podCIDRs',
        message: `--detect-local-mode NodeCIDR: the node has no ${family} pod CIDR, so no ${family} traffic is detected as local`,
      });
      return null;
    }
    case 'BridgeInterface':
      return config.bridgeInterface === '' ? null : { kind: 'bridge', iface: config.bridgeInterface };
    case 'InterfaceNamePrefix':
      return config.interfaceNamePrefix === '' ? null : { kind: 'prefix', prefix: config.interfaceNamePrefix };
  }
}
