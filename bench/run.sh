#!/usr/bin/env bash
# Runs every benchmark in bench/ (each bench/*.sh but this one), passing its arguments on
# (e.g. --update-doc). Benchmarks measure and report; none of them asserts timing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
status=0
for b in "$here"/*.sh; do
	[[ $(basename "$b") == run.sh ]] && continue
	echo "== $(basename "$b")"
	bash "$b" "$@" || { echo "bench: $(basename "$b") failed" >&2; status=1; }
done
exit "$status"
