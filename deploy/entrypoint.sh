#!/bin/sh
# The imageless DaemonSet's container (deploy/daemonset.yaml): puts imageless on the node it runs
# on, then stays to serve that node. The host's / is mounted at $IMAGELESS_HOST_ROOT (/host).
#
#   IMAGELESS_HOST_ROOT     the host's / as this container sees it (default /host)
#   IMAGELESS_BIN           the imageless CLI in this image (default: imageless on PATH)
#   IMAGELESS_INSTALL_ARGS  extra flags for `imageless node install` (e.g. --no-restart)
#   IMAGELESS_AGENT         1: then serve the node with the installed `imageless node agent` (the
#                           DaemonSet sets it); otherwise stay idle
#   IMAGELESS_AGENT_BIN     the installed CLI, a host path (default /opt/imageless/bin/imageless)
set -eu
set -f # IMAGELESS_INSTALL_ARGS is split on spaces, never globbed

host_root=${IMAGELESS_HOST_ROOT:-/host}
imageless=${IMAGELESS_BIN:-imageless}

# Idempotent: a restarted pod, or a new image rolled out by the DaemonSet, installs only what changed
# (a new release is swapped in while running containers keep working; containerd restarts only when
# its config changed).
# shellcheck disable=SC2086
"$imageless" node install --host-root "$host_root" ${IMAGELESS_INSTALL_ARGS:-}

# The node agent (SPEC §1) serves the host's runtime, so it runs in the host's root: the release just
# installed, the host's config, state dir, store, containerd bundles and /run/imageless socket, all at
# the paths the host's imageless-runc and shim use. Its process is this container's, stopped with it.
if [ "${IMAGELESS_AGENT:-}" = 1 ]; then
  exec chroot "$host_root" "${IMAGELESS_AGENT_BIN:-/opt/imageless/bin/imageless}" node agent
fi
echo "imageless: installed; no node agent asked for (IMAGELESS_AGENT=1), staying idle"
sleeper=""
trap 'if [ -n "$sleeper" ]; then kill "$sleeper" 2>/dev/null || true; fi; exit 0' TERM INT
while :; do
  sleep 3600 &
  sleeper=$!
  wait "$sleeper" || true
done
