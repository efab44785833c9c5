/**
 * The iptables renderer, current format (kube-proxy v1.28+; reference §5): DesiredState →
 * the Ruleset kube-proxy feeds to `iptables-restore --noflush`, in kube-proxy's emission order
 * (services in DesiredState order, which is sorted, where kube-proxy's is random).
 */
import { serviceName, type RuleFormat } from '../../core/naming/service-port-name.js';
import type { RenderInput } from '../api.js';
import { TableBuilder, rulesetOf } from './builder.js';
import type { IptablesHostState } from './host.js';
import type { Ruleset } from './model.js';
import { isServiceChainName } from './names.js';
import { activeChainsOf, makeRenderContext, planServicePort } from './render-context.js';
import { writeDispatchRules } from './render-dispatch.js';
import { writeFixedHead, writeForwardRules, writeNodePortsTail } from './render-fixed.js';
import { renderIptablesLegacy } from './render-legacy.js';
import { writeServicePortChains } from './render-service-chains.js';

export type IptablesRenderInput = RenderInput<IptablesHostState>;

export function renderIptables(input: IptablesRenderInput): Ruleset {
  const { state, scope, host } = input;
  const ctx = makeRenderContext(state, host.capabilities);
  const filter = new TableBuilder('filter');
  const nat = new TableBuilder('nat');

  writeFixedHead(ctx, filter, nat);

  const active = new Set<string>();
  for (const sp of state.servicePorts) {
    const plan = planServicePort(sp);
    writeDispatchRules(ctx, plan, filter, nat);
    for (const chain of activeChainsOf(plan)) active.add(chain);
    if (scope.full || scope.changedServices.has(serviceName(sp.info.key))) {
      writeServicePortChains(ctx, plan, nat);
    }
  }

  if (host.existingNatChains !== null) {
    for (const chain of [...host.existingNatChains].sort()) {
      if (isServiceChainName(chain) && !active.has(chain)) nat.deleteChain(chain);
    }
  }

  writeNodePortsTail(ctx, nat);
  writeForwardRules(ctx, filter);
  return rulesetOf(filter, nat);
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
