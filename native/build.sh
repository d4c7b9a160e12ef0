#!/bin/sh
# Builds the agent client (agent-client.c) as a static binary beside the dispatcher:
# bin/imageless-agent-client (libexec/imageless/ links to it). Static, so it starts in ~1 ms and needs
# no library on the node. Needs gcc and libc6-dev (scripts/setup.sh installs them).
set -eu
cd "$(dirname "$0")/.."
out=bin/imageless-agent-client
gcc -Os -static -Wall -Wextra -Werror -o "$out.tmp" native/agent-client.c
strip "$out.tmp" 2>/dev/null || true
mv "$out.tmp" "$out"
