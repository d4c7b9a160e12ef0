#!/bin/sh
# The imageless DaemonSet's container (deploy/daemonset.yaml): puts imageless on the node it runs
# on, then stays to serve that node. The host's / is mounted at $IMAGELESS_HOST_ROOT (/host).
#
#   IMAGELESS_HOST_ROOT     the host's / as this container sees it (default /host)
#   IMAGELESS_BIN           the imageless CLI in this image (default: imageless on PATH)
#   IMAGELESS_INSTALL_ARGS  extra flags for `imageless node install` (e.g. --no-restart)
set -eu
set -f # IMAGELESS_INSTALL_ARGS is split on spaces, never globbed

host_root=${IMAGELESS_HOST_ROOT:-/host}
imageless=${IMAGELESS_BIN:-imageless}

# Idempotent: a restarted pod, or a new image rolled out by the DaemonSet, installs only what changed
# (a new release is swapped in while running containers keep working; containerd restarts only when
# its config changed).
# shellcheck disable=SC2086
"$imageless" node install --host-root "$host_root" ${IMAGELESS_INSTALL_ARGS:-}

# The seam for the node agent (SPEC §1): once `imageless node agent` exists, this container runs it
# and serves the node's runtime from here. Until then it stays up (so the DaemonSet shows the node
# as done) and exits cleanly when Kubernetes stops it.
# (Asked through `node --help`: an unknown subcommand's --help would print the parent's help and succeed.)
if "$imageless" node --help 2>/dev/null | grep -Eq '^  agent( |$)'; then
  exec "$imageless" node agent
fi
echo "imageless: installed; no node agent in this build, staying idle"
sleeper=""
trap 'if [ -n "$sleeper" ]; then kill "$sleeper" 2>/dev/null || true; fi; exit 0' TERM INT
while :; do
  sleep 3600 &
  sleeper=$!
  wait "$sleeper" || true
done
