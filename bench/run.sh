#!/usr/bin/env bash
# Runs every benchmark in bench/ (each bench/*.sh but this one), without arguments: each takes
# its settings from the environment (e.g. TF_BUILD; BENCH_UPDATE_DOC=1 lets bench/bundle.sh
# rewrite its block in docs/benchmarks.md). Benchmarks measure and report; none asserts timing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
status=0
for b in "$here"/*.sh; do
	[[ $(basename "$b") == run.sh ]] && continue
	echo "== $(basename "$b")"
	bash "$b" </dev/null || { echo "bench: $(basename "$b") failed" >&2; status=1; }
done
exit "$status"
