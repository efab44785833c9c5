/**
 * kube-proxy's precedence between `--config FILE` and its flags (cmd/kube-proxy/app/options.go):
 * the file replaces the whole configuration the flags built; afterwards only the logging flags
 * (kproxy has `--logging-format`), a non-empty `--hostname-override`, and `--master` (which has
 * no field in the file) still apply. kproxy's own options (`--node-ip`, `-f`, `--netns`,
 * `--format`, ...) are not kube-proxy flags and always apply. Every other kube-proxy flag given
 * with `--config` is ignored, with one warning naming them.
 */
import type { Diagnostic } from '../../core/model/diagnostics.js';

/** The flags that still apply with --config, as the help and the docs state them. */
export const FLAGS_APPLIED_WITH_CONFIG = ['--hostname-override', '--master', '--logging-format'] as const;

export const CONFIG_OPTION_HELP =
  "a KubeProxyConfiguration file (kubeproxy.config.k8s.io/v1alpha1, e.g. kubeadm's config.conf), defaulted as kube-proxy " +
  `defaults it; as with kube-proxy it replaces the other kube-proxy flags: only ${FLAGS_APPLIED_WITH_CONFIG.slice(0, -1).join(', ')} and ${FLAGS_APPLIED_WITH_CONFIG.at(-1) ?? ''} ` +
  "still apply (and kproxy's own options, such as --node-ip)";

/** commander's camelCase option key → the flag (`iptablesSyncPeriod` → `--iptables-sync-period`). */
export function kebabFlag(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * A warning about an option, located where it was given as object diagnostics are:
 * `flags: --flag: warning: ...` (`location` = `flags`) or `CONFIG-FILE: field: warning: ...`.
 */
export function optionWarning(location: string, field: string, message: string): Diagnostic {
  return { severity: 'warning', source: { file: location, document: 0, options: true }, kind: '', object: '', field, message };
}

/** One warning naming every flag the config file overrides; none when no such flag was given. */
export function ignoredFlagsWarning(configPath: string, flags: readonly string[]): Diagnostic[] {
  const unique = [...new Set(flags)].sort();
  if (unique.length === 0) return [];
  return [optionWarning('flags', unique.join(', '), `ignored because --config ${configPath} is given (as kube-proxy does)`)];
}
