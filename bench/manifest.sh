#!/usr/bin/env bash
# Benchmark (not a test: nothing here asserts timing) of reading an unverified manifest, the
# work `inspect`, `sign` and `install --dry-run` do before any signature is checked (issue 13,
# item 4: 470,000 keys in one object took 700 s when repeated keys were found pair by pair).
#   tiferry-build inspect of a bundle whose 4 MB manifest.json holds 470,000 keys in one object
#   vs  jq reading the same manifest (the baseline, measured in the same run)
# The manifest is refused (it names no format); the time is the reading. Medians of BENCH_RUNS.
#
#   bench/manifest.sh
# Environment: TF_BUILD (default <src>/build), BENCH_RUNS (3), BENCH_TMP (/var/tmp).
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TF_BUILD=${TF_BUILD:-$SRC/build}
TB=$TF_BUILD/builder/tiferry-build
RUNS=${BENCH_RUNS:-3}
[[ -x $TB ]] || { echo "bench: '$TB' missing (build first or set TF_BUILD)" >&2; exit 2; }
command -v jq >/dev/null || { echo "bench: needs jq" >&2; exit 2; }
work=$(mktemp -d "${BENCH_TMP:-/var/tmp}/tf-bench-manifest.XXXXXX")
trap 'rm -rf "$work"' EXIT

python3 - "$work/manifest.json" <<'PY'
import sys
alphabet = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"\\')
keys = []
for i in range(470000):
    k, s = i, ""
    for _ in range(3):
        s += alphabet[k % len(alphabet)]
        k //= len(alphabet)
    keys.append('"%s":0' % s)
open(sys.argv[1], "w").write('{"plan": {' + ",".join(keys) + "}}")
PY
tar -C "$work" -cf "$work/b.tar" manifest.json

secs() { # prints the wall seconds of "$@" (its output and status ignored)
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>&1 || true
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}'
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

base=() cand=()
for ((i = 0; i < RUNS; i++)); do
	base+=("$(secs jq empty "$work/manifest.json")")
	cand+=("$(secs "$TB" inspect "$work/b.tar")")
done
b=$(printf '%s\n' "${base[@]}" | median)
c=$(printf '%s\n' "${cand[@]}" | median)
printf 'manifest: %s bytes, 470000 keys in one object\n' "$(stat -c %s "$work/manifest.json")"
printf '  jq empty (baseline)    %8.3f s\n' "$b"
printf '  tiferry-build inspect  %8.3f s   ratio %.2fx\n' "$c" "$(awk -v c="$c" -v b="$b" 'BEGIN {print c / b}')"
