#!/usr/bin/env bash
# The whole test suite: unit tests, integration tests (nix, git) and end-to-end tests on a private containerd.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
bash scripts/setup.sh
npm run lint --silent
node --test --test-concurrency=1 dist/src/ dist/test/
