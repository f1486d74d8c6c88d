#!/usr/bin/env bash
# Runs every benchmark in bench/ (each bench/*.sh but this one). Benchmarks measure and report;
# none asserts timing. With --update-doc, the flag goes to each benchmark that documents it (its
# own block in docs/benchmarks.md is rewritten); the others run without arguments and take their
# settings from the environment (e.g. TF_BUILD).
#
#   bench/run.sh [--update-doc]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
update=0
if [[ ${1:-} == --update-doc ]]; then
	update=1
fi
status=0
for b in "$here"/*.sh; do
	[[ $(basename "$b") == run.sh ]] && continue
	args=()
	if ((update)) && grep -q -- '--update-doc' "$b"; then
		args=(--update-doc)
	fi
	echo "== $(basename "$b") ${args[*]}"
	bash "$b" "${args[@]}" </dev/null || { echo "bench: $(basename "$b") failed" >&2; status=1; }
done
exit "$status"
