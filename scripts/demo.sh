#!/usr/bin/env bash
# The main job on embedded defaults: a private containerd with the flox runtime, environments on a
# floxmeta repo, and pods that run their command from an environment. Prints what the pods printed.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
bash scripts/setup.sh
node dist/demo/run-demo.js
