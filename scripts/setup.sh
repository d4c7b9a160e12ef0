#!/usr/bin/env bash
# Installs what imageless needs on a Debian 12 machine, as root, then builds it. Safe to run again.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

need_node_major=20
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt "$need_node_major" ]; then
  echo "imageless: needs Node.js >= $need_node_major (found: $(node --version 2>/dev/null || echo none)); install it first" >&2
  exit 1
fi

# Debian's packages: the node runtime's real parts (containerd, runc, Nix), what the tests and the
# demo build with (the demo's Redis is Debian's redis-tools, imported into the Nix store), gcc for the
# agent client (native/), zstd and xz, with which the hub unpacks uploaded NARs to check their NarHash, and
# docker-registry, the registry bench/run pulls images from (its own process and config on a free port;
# the package's systemd service plays no part).
packages=(containerd runc nix-bin busybox-static git patchelf ca-certificates procps util-linux postgresql chromium redis-tools gcc libc6-dev zstd xz-utils docker-registry)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

npm ci --no-audit --no-fund --loglevel=error
# The single executable a node runs instead of Node.js (docs/architecture.md): 10-45 s, skipped when up to date.
npm run build:node-binary --silent
npm run build --silent
# The node agent's static client (bin/imageless-agent-client), beside bin/imageless-runc.
native/build.sh
