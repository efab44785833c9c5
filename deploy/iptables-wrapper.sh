#!/bin/sh
# kproxy's iptables wrapper (the image installs it as /usr/local/sbin/iptables, iptables-save,
# iptables-restore and the ip6tables ones, ahead of Debian's in PATH).
#
# iptables 1.8 has two backends, legacy (the kernel's x_tables) and nft (nf_tables), and rules
# written with one are invisible to the other: a container in the host network namespace must
# use the backend the host already uses, or the host's rules and kproxy's end up split over two
# rulesets whose relative order nobody controls. The first call decides, the decision is kept in
# $MODE_FILE for the container's life, and every call then runs the chosen backend's binary:
#   1. KPROXY_IPTABLES_BACKEND=legacy|nft, when set;
#   2. the backend holding kubelet's marker chains (KUBE-IPTABLES-HINT or KUBE-KUBELET-CANARY,
#      which kubelet 1.17+ creates in the mangle table): nft is checked first;
#   3. the backend holding more rules (kube-proxy's, or anyone's);
#   4. nft.
set -eu

SBIN=${KPROXY_IPTABLES_SBIN:-/usr/sbin}
MODE_FILE=${KPROXY_IPTABLES_MODE_FILE:-/run/kproxy-iptables-backend}

has_kubelet_chains() {
  grep -Eq '^:(KUBE-IPTABLES-HINT|KUBE-KUBELET-CANARY) '
}

rule_count() {
  # Lines that are rules ("-A CHAIN ..."), over both families; a missing tool counts as none.
  { "$SBIN/iptables-$1-save" 2>/dev/null || true; "$SBIN/ip6tables-$1-save" 2>/dev/null || true; } | grep -c '^-' || true
}

detect_backend() {
  case "${KPROXY_IPTABLES_BACKEND:-}" in
    legacy | nft) echo "$KPROXY_IPTABLES_BACKEND"; return ;;
    '') ;;
    *) echo "kproxy iptables wrapper: KPROXY_IPTABLES_BACKEND must be legacy or nft, not \"$KPROXY_IPTABLES_BACKEND\"" >&2; exit 2 ;;
  esac
  # nft can list one table without creating it; legacy -t mangle would create the table, so the
  # legacy check reads every table that exists.
  for save in iptables-nft-save ip6tables-nft-save; do
    if "$SBIN/$save" -t mangle 2>/dev/null | has_kubelet_chains; then echo nft; return; fi
  done
  for save in iptables-legacy-save ip6tables-legacy-save; do
    if "$SBIN/$save" 2>/dev/null | has_kubelet_chains; then echo legacy; return; fi
  done
  if [ "$(rule_count legacy)" -gt "$(rule_count nft)" ]; then echo legacy; else echo nft; fi
}

backend=$(cat "$MODE_FILE" 2>/dev/null || true)
if [ "$backend" != legacy ] && [ "$backend" != nft ]; then
  backend=$(detect_backend)
  # Written whole, then renamed: a concurrent first call reads either nothing or the decision.
  if printf '%s\n' "$backend" > "$MODE_FILE.$$" 2>/dev/null; then mv -f "$MODE_FILE.$$" "$MODE_FILE"; fi
  echo "kproxy iptables wrapper: using the $backend backend of iptables (as this host does)" >&2
fi

# iptables → iptables-nft, iptables-save → iptables-nft-save, ip6tables-restore → ip6tables-nft-restore
name=$(basename "$0")
case "$name" in
  iptables | iptables-save | iptables-restore | ip6tables | ip6tables-save | ip6tables-restore) ;;
  *) echo "kproxy iptables wrapper: run it as iptables, iptables-save, iptables-restore or their ip6tables forms, not $name" >&2; exit 2 ;;
esac
family=${name%%-*}
suffix=${name#"$family"}
exec "$SBIN/$family-$backend$suffix" "$@"
