#!/usr/bin/env bash
# The demo: a web app backed by Redis, both from environments on a hub, no images (README.md).
#   bash scripts/demo.sh        install what it needs, build, run it in the foreground (Ctrl-C stops it)
#   bash scripts/demo.sh stop   stop a running demo from another terminal
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
if [ "${1:-}" = "stop" ]; then
  exec node dist/demo/run-demo.js stop
fi
bash scripts/setup.sh
exec node dist/demo/run-demo.js
