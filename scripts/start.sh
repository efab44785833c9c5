#!/bin/sh
# `npm start`: the main job — the demo on the embedded default (the article's nginx example).
# On a fresh Debian machine as root it first installs what it lacks, showing what it does.
set -e
cd "$(dirname "$0")/.."
DEBS="iptables nftables ipset conntrack iproute2 curl nfacct"
missing=""
for p in $DEBS; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "kproxy: installing Debian packages:$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends $missing >&2 || { apt-get update >&2 && apt-get install -y --no-install-recommends $missing >&2; }
  else
    echo "kproxy: missing Debian packages:$missing (as root: apt-get install$missing)" >&2
  fi
fi
sh scripts/ensure-setup.sh
exec bin/kproxy demo "$@"
