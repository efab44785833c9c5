/**
 * Diagnostics about an option rather than an object: located at the option as the user gave it,
 * `flags: --nodeport-addresses: ...` or `/path/config.conf: nodePortAddresses: ...`.
 */
import type { ProxyConfig } from '../model/config.js';
import type { Diagnostic, Severity } from '../model/diagnostics.js';

/** One option under its two names: the kube-proxy flag and the KubeProxyConfiguration field. */
export interface OptionName {
  readonly flag: string;
  readonly field: string;
}

export function optionDiagnostic(config: ProxyConfig, option: OptionName, severity: Severity, message: string): Diagnostic {
  const origin = config.origin ?? { kind: 'flags' };
  const fromFile = origin.kind === 'file';
  return {
    severity,
    source: { file: fromFile ? origin.path : 'flags', document: 0, options: true },
    kind: '',
    object: '',
    field: fromFile ? option.field : option.flag,
    message,
  };
}
