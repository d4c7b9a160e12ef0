#!/usr/bin/env bash
# Start-up of the single executable (dist/node-binary/imageless, scripts/build-node-binary.mjs)
# against the same program as dist/ JavaScript under `node`: `--version` (the CLI) and
# `__runc … delete <id>` (the wrapper's Node side: config, state dir, then runc, here /bin/true).
# Calls alternate so both see the same machine noise; medians per call (wall, and CPU from
# /usr/bin/time). bash only for $EPOCHREALTIME, a clock read without a fork.
#   usage: bench/node-binary-start.sh [N]   (default 30)
set -euo pipefail

n=${1:-30}
repo=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
node "$repo/scripts/build-node-binary.mjs"
executable=$repo/dist/node-binary/imageless
entry=$repo/dist/src/main/imageless.js
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '[runtime]\nrunc = "/bin/true"\nstate-dir = "%s/state"\n[telemetry]\nenabled = false\n' "$work" >"$work/config.toml"
export IMAGELESS_CONFIG=$work/config.toml

# run FILE CMD…: appends "wall_us cpu_s" of one call, output discarded.
run() {
  local out=$1
  shift
  local t0=$EPOCHREALTIME
  /usr/bin/time -f '%U %S' -o "$work/cpu" "$@" >/dev/null 2>&1 || true
  local t1=$EPOCHREALTIME
  awk -v us=$((${t1/./} - ${t0/./})) '{ printf "%d %.3f\n", us, $1 + $2 }' "$work/cpu" >>"$out"
}

median() { sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m }'; }

# bench NAME ARGS…: the executable and node+dist alternately, n times each.
bench() {
  local name=$1
  shift
  : >"$work/a" && : >"$work/b"
  for _ in $(seq "$n"); do
    run "$work/a" "$executable" "$@"
    run "$work/b" node "$entry" "$@"
  done
  local aw bw ac bc
  aw=$(cut -d' ' -f1 "$work/a" | median)
  bw=$(cut -d' ' -f1 "$work/b" | median)
  ac=$(cut -d' ' -f2 "$work/a" | median)
  bc=$(cut -d' ' -f2 "$work/b" | median)
  awk -v name="$name" -v aw="$aw" -v bw="$bw" -v ac="$ac" -v bc="$bc" 'BEGIN {
    printf "| %-28s | %7.1f ms / %.3f s | %7.1f ms / %.3f s | ×%.2f / ×%.2f |\n", name, aw / 1000, ac, bw / 1000, bc, aw / bw, ac / bc }'
}

echo "N = $n; $(node --version); executable $(($(stat -c %s "$executable") / 1000000)) MB"
echo "| call                         | executable: wall / CPU  | node + dist: wall / CPU | ratio wall / CPU |"
echo "| ---------------------------- | ----------------------- | ----------------------- | ---------------- |"
bench "--version" --version
bench "__runc ... delete abc" __runc --root "$work/runc" delete abc
