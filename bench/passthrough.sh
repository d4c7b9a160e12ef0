#!/usr/bin/env bash
# What the sh dispatcher (bin/imageless-runc) adds to a pass-through runc call, against runc alone.
# bash only for $EPOCHREALTIME: a clock read without a fork, which would otherwise dominate a ~5 ms call.
# Calls alternate (runc, wrapper, runc, …) so both see the same machine noise; medians per call.
#   usage: bench/passthrough.sh [N]   (default 200; also honours RUNC=/path/to/runc)
set -euo pipefail

n=${1:-200}
repo=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
wrapper=$repo/bin/imageless-runc
runc=${RUNC:-$(command -v runc)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Two wrapper set-ups: [runtime] runc configured (one awk), and unset (awk + PATH search with readlink).
printf '[runtime]\nrunc = "%s"\n' "$runc" >"$work/configured.toml"
printf '[runtime]\nmount = "store"\n' >"$work/unset.toml"
root=$work/runc-root
mkdir -p "$root"

# time_us CMD…: microseconds one call takes, output discarded (runc state on a missing id exits 1).
time_us() {
  local t0=$EPOCHREALTIME
  "$@" >/dev/null 2>&1 || true
  local t1=$EPOCHREALTIME
  echo $(((${t1/./} - ${t0/./})))
}

median() { sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f", m / 1000 }'; }

# bench NAME ARGS…: runs runc and the wrapper (both config set-ups) alternately, n times each.
bench() {
  local name=$1
  shift
  : >"$work/runc" && : >"$work/conf" && : >"$work/unset"
  for _ in $(seq "$n"); do
    time_us "$runc" "$@" >>"$work/runc"
    IMAGELESS_CONFIG=$work/configured.toml time_us "$wrapper" "$@" >>"$work/conf"
    IMAGELESS_CONFIG=$work/unset.toml time_us "$wrapper" "$@" >>"$work/unset"
  done
  local r c u
  r=$(median <"$work/runc")
  c=$(median <"$work/conf")
  u=$(median <"$work/unset")
  printf '%-22s runc %6s ms | wrapper, runc configured %6s ms (x%s) | wrapper, runc from PATH %6s ms (x%s)\n' \
    "$name" "$r" "$c" "$(awk -v a="$c" -v b="$r" 'BEGIN { printf "%.2f", a / b }')" \
    "$u" "$(awk -v a="$u" -v b="$r" 'BEGIN { printf "%.2f", a / b }')"
}

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -srm), $(nproc) cores, $("$runc" --version | head -1), N=$n"
bench "--version" --version
bench "state <missing-id>" --root "$root" state imageless-bench-missing

# For scale: what one Node start costs, i.e. what the dispatcher avoids on these calls.
: >"$work/node"
for _ in $(seq $((n / 10 + 1))); do time_us node -e 0 >>"$work/node"; done
printf '%-22s %s ms (N=%s)\n' "node -e 0" "$(median <"$work/node")" $((n / 10 + 1))
