#!/usr/bin/env bash
# Runs every fuzz target (tests/fuzz/fuzz_*.c) under libFuzzer with ASan and UBSan, each for
# FUZZ_SECONDS (default 20) over a copy of its committed corpus (tests/fuzz/corpus/<name>/).
# `make test` runs it as its fuzz gate (`make fuzz-gate`, 15 s a target); `make fuzz
# FUZZ_SECONDS=600` is the long campaign. Exits 1 on any finding, after printing the input that
# made it (base64 and a hex dump) and the sanitizer's report, so the CI log alone reproduces it:
#   echo '<base64>' | base64 -d > crash && build-fuzz/run/fuzz_<name> crash
# When clang cannot link libFuzzer it fails too (scripts/deps.sh installs libclang-rt-14-dev and
# libfuzzer-14-dev); the targets also replay their corpus under ctest (tests/fuzz/replay.c).
#
#   scripts/fuzz.sh [NAME...]        (default: every target)
# Environment: FUZZ_SECONDS, FUZZ_BUILD (default <src>/build-fuzz), CC_FUZZ (default clang).
# Findings are left in $FUZZ_BUILD/run/artifacts/; new inputs in $FUZZ_BUILD/run/corpus-<name>/.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECONDS_EACH=${FUZZ_SECONDS:-20}
BUILD=${FUZZ_BUILD:-$SRC/build-fuzz}
CC_FUZZ=${CC_FUZZ:-clang}
started=$(date +%s)

probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' >"$probe/t.c"
if ! command -v "$CC_FUZZ" >/dev/null ||
	! "$CC_FUZZ" -fsanitize=fuzzer,address,undefined "$probe/t.c" -o "$probe/t" 2>/dev/null; then
	echo "fuzz: $CC_FUZZ cannot link libFuzzer (-fsanitize=fuzzer,address,undefined):" \
		"run scripts/deps.sh (clang, libclang-rt-14-dev, libfuzzer-14-dev)" >&2
	exit 1
fi

# Which library targets each fuzz target links, from its tf_fuzz_target() line.
declare -A libs_of
while read -r name libs; do
	libs_of[$name]=$libs
done < <(sed -n 's/^tf_fuzz_target(\([A-Za-z0-9_]*\) \(.*\))$/\1 \2/p' "$SRC/tests/CMakeLists.txt")

if [[ $# -gt 0 ]]; then
	targets=("$@")
else
	targets=()
	for f in "$SRC"/tests/fuzz/fuzz_*.c; do
		n=$(basename "$f" .c)
		targets+=("${n#fuzz_}")
	done
fi
need=(tf_common)
for t in "${targets[@]}"; do
	[[ -f $SRC/tests/fuzz/fuzz_$t.c ]] || { echo "fuzz: no tests/fuzz/fuzz_$t.c" >&2; exit 2; }
	# shellcheck disable=SC2206
	need+=(${libs_of[$t]:-tf_manifests})
done
mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)

# The project's libraries, instrumented for coverage and built with the sanitizers.
echo "fuzz: building ${need[*]} with $CC_FUZZ in $BUILD"
cmake -S "$SRC" -B "$BUILD" -DCMAKE_C_COMPILER="$CC_FUZZ" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DTF_SANITIZE=ON -DTF_WERROR=OFF -DTF_BUILD_TESTS=OFF \
	-DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link" >"$BUILD.log" 2>&1 ||
	{ cat "$BUILD.log" >&2; exit 1; }
cmake --build "$BUILD" -j"$(nproc)" --target "${need[@]}" >>"$BUILD.log" 2>&1 ||
	{ tail -40 "$BUILD.log" >&2; exit 1; }
mapfile -t archives < <(find "$BUILD" -name 'libtf_*.a' | sort)
# shellcheck disable=SC2207
syslibs=($(pkg-config --libs libarchive openssl zlib libcjson yaml-0.1 libssh))

# The sanitizer's report and every input libFuzzer saved for target $1, into the log (stderr).
report_finding() {
	local t=$1 a n
	{
		echo "fuzz: ===== FINDING in $t ====="
		if grep -q -E '^==[0-9]+==ERROR|runtime error|deadly signal|ALARM|out-of-memory' \
			"$run/$t.log"; then
			sed -n '/^==[0-9]*==ERROR\|runtime error\|deadly signal\|ALARM\|out-of-memory/,$p' \
				"$run/$t.log" | head -n 80
		else
			tail -n 40 "$run/$t.log"
		fi
		for a in "$run/artifacts/$t-"*; do
			[[ -f $a ]] || continue
			n=$(stat -c %s "$a")
			echo "fuzz: input $(basename "$a") ($n bytes), base64:"
			head -c 65536 "$a" | base64 -w 76
			echo "fuzz: the same, hex (first 1 KiB):"
			head -c 1024 "$a" | od -A x -t x1z -v
		done
		echo "fuzz: reproduce: echo '<base64 above>' | base64 -d > crash && $run/fuzz_$t crash"
		echo "fuzz: ===== end of finding in $t ====="
	} >&2
}

run=$BUILD/run
rm -rf "$run/tmp"
rm -rf "$run/artifacts"
mkdir -p "$run/artifacts" "$run/tmp"
status=0
summary=()
for t in "${targets[@]}"; do
	bin=$run/fuzz_$t
	"$CC_FUZZ" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-D_GNU_SOURCE -I"$SRC" "$SRC/tests/fuzz/fuzz_$t.c" \
		-Wl,--start-group "${archives[@]}" -Wl,--end-group "${syslibs[@]}" -lm -lpthread \
		-o "$bin"
	rm -rf "$run/corpus-$t"
	mkdir -p "$run/corpus-$t"
	if [[ -d $SRC/tests/fuzz/corpus/$t ]]; then
		cp -r "$SRC/tests/fuzz/corpus/$t/." "$run/corpus-$t/"
	fi
	echo "fuzz: $t for ${SECONDS_EACH}s"
	t0=$(date +%s)
	if TMPDIR=$run/tmp "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$run/artifacts/$t-" "$run/corpus-$t" \
		>"$run/$t.log" 2>&1; then
		execs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$run/$t.log")
		summary+=("$t: ok, ${execs:-?} runs in $(($(date +%s) - t0))s, corpus $(find "$run/corpus-$t" -type f | wc -l) inputs")
	else
		status=1
		summary+=("$t: FINDING after $(($(date +%s) - t0))s, see $run/$t.log")
		report_finding "$t"
	fi
	rm -rf "${run:?}/tmp/"*
done
printf 'fuzz: %s\n' "${summary[@]}"
echo "fuzz: done in $(($(date +%s) - started))s"
exit "$status"
