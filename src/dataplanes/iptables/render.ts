/**
 * The iptables renderer, current format (kube-proxy v1.28+; reference §5): DesiredState →
 * the Ruleset kube-proxy feeds to `iptables-restore --noflush`, in kube-proxy's emission order
 * (services in DesiredState order, which is sorted, where kube-proxy's is random).
 * renderIptablesText writes the same restore text directly, for large full syncs.
 */
import { serviceName, type RuleFormat } from '../../core/naming/service-port-name.js';
import type { RenderInput } from '../api.js';
import { TableBuilder, TableTextWriter, rulesetOf, textOf, type TableSink } from './builder.js';
import type { IptablesHostState } from './host.js';
import type { Ruleset } from './model.js';
import { isServiceChainName } from './names.js';
import { activeChainsOf, makeRenderContext, planServicePort } from './render-context.js';
import { writeDispatchRules } from './render-dispatch.js';
import { writeFixedHead, writeForwardRules, writeNodePortsTail } from './render-fixed.js';
import { renderIptablesLegacy, renderLegacyInto } from './render-legacy.js';
import { writeServicePortChains } from './render-service-chains.js';

export type IptablesRenderInput = RenderInput<IptablesHostState>;

export function renderIptables(input: IptablesRenderInput): Ruleset {
  const filter = new TableBuilder('filter');
  const nat = new TableBuilder('nat');
  renderInto(input, filter, nat);
  return rulesetOf(filter, nat);
}

function renderInto(input: IptablesRenderInput, filter: TableSink, nat: TableSink): void {
  const { state, scope, host } = input;
  const ctx = makeRenderContext(state, host.capabilities);
  writeFixedHead(ctx, filter, nat);

  // Stale-chain cleanup needs the set of chains this sync uses only when the kernel has some.
  const existing = host.existingNatChains?.filter(isServiceChainName) ?? [];
  const active = new Set<string>();
  for (const sp of state.servicePorts) {
    const plan = planServicePort(sp);
    writeDispatchRules(ctx, plan, filter, nat);
    if (existing.length > 0) for (const chain of activeChainsOf(plan)) active.add(chain);
    if (scope.full || scope.changedServices.has(serviceName(sp.info.key))) {
      writeServicePortChains(ctx, plan, nat);
    }
  }

  for (const chain of existing.sort()) {
    if (!active.has(chain)) nat.deleteChain(chain);
  }

  writeNodePortsTail(ctx, nat);
  writeForwardRules(ctx, filter);
}

/** Renders in either format: `current` (today's kube-proxy) or `legacy` (v1.18). */
export function renderIptablesFormat(input: IptablesRenderInput, format: RuleFormat): Ruleset {
  switch (format) {
    case 'current':
      return renderIptables(input);
    case 'legacy':
      return renderIptablesLegacy(input);
  }
}

/** The restore text of either format, written directly (equal to serializeRuleset of the Ruleset). */
export function renderIptablesText(input: IptablesRenderInput, format: RuleFormat = 'current'): string {
  const filter = new TableTextWriter('filter');
  const nat = new TableTextWriter('nat');
  switch (format) {
    case 'current':
      renderInto(input, filter, nat);
      break;
    case 'legacy':
      renderLegacyInto(input, filter, nat);
      break;
  }
  return textOf(filter, nat);
}
