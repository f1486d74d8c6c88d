#!/usr/bin/env bash
# Benchmark: `tiferry-build mirror verify` over 1 GiB of generated, incompressible tarballs,
# against `sha256sum` over the same files, measured in one run (best of ROUNDS, alternating,
# page cache warm for both). Prints both throughputs and the ratio (goal: >= 0.9).
#
#   bench/mirror_verify.sh [BUILD_DIR]      (default: build)
# Environment: TIFERRY_BUILD_BIN (the binary; default BUILD_DIR/builder/tiferry-build),
# BENCH_MIB (default 1024), ROUNDS (default 3), BENCH_DIR (default a temporary folder).
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$SRC/build}
BIN=${TIFERRY_BUILD_BIN:-$BUILD/builder/tiferry-build}
MIB=${BENCH_MIB:-1024}
ROUNDS=${ROUNDS:-3}
[ -x "$BIN" ] || {
	echo "bench: $BIN is not built" >&2
	exit 2
}
work=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/bench-mirror-XXXXXX")}
trap 'rm -rf "$work"' EXIT

# 12 component tarballs plus the 2 tiup-<os>-<arch> copies are hashed: 14 files of MIB/14.
per=$((MIB * 1024 * 1024 / 14))
echo "bench: generating ~${MIB} MiB of tarballs in $work/m ..."
python3 "$SRC/tests/mirrorgen/mkmirror.py" "$work/m" --tarball-size "$per" \
	--key-cache "${TMPDIR:-/tmp}/tiferry-mirrorgen-keys-$(id -u)" >/dev/null
files=("$work"/m/*.tar.gz)
bytes=$(stat -c %s "${files[@]}" | awk '{s += $1} END {print s}')
cat "${files[@]}" >/dev/null # warm the page cache for both contenders

now() { date +%s.%N; }
best_sha=0
best_tf=0
for ((i = 1; i <= ROUNDS; i++)); do
	t0=$(now)
	sha256sum "${files[@]}" >/dev/null
	t1=$(now)
	"$BIN" -q mirror verify "$work/m" >/dev/null
	t2=$(now)
	s=$(echo "$t1 - $t0" | bc -l)
	v=$(echo "$t2 - $t1" | bc -l)
	printf 'round %d: sha256sum %.3f s, mirror verify %.3f s\n' "$i" "$s" "$v"
	if [ "$best_sha" = 0 ] || [ "$(echo "$s < $best_sha" | bc -l)" = 1 ]; then best_sha=$s; fi
	if [ "$best_tf" = 0 ] || [ "$(echo "$v < $best_tf" | bc -l)" = 1 ]; then best_tf=$v; fi
done
mib=$(echo "$bytes / 1048576" | bc -l)
printf 'bytes hashed: %d (%.1f MiB in %d files)\n' "$bytes" "$mib" "${#files[@]}"
printf 'sha256sum:           %.1f MiB/s (best %.3f s)\n' "$(echo "$mib / $best_sha" | bc -l)" "$best_sha"
printf 'mirror verify:       %.1f MiB/s (best %.3f s, signatures and manifests included)\n' \
	"$(echo "$mib / $best_tf" | bc -l)" "$best_tf"
ratio=$(echo "$best_sha / $best_tf" | bc -l)
printf 'ratio verify/sha256sum: %.2f (goal >= 0.90)\n' "$ratio"
[ "$(echo "$ratio >= 0.9" | bc -l)" = 1 ]
