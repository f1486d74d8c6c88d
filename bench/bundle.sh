#!/usr/bin/env bash
# Benchmark (not a test: nothing here asserts timing) of the bundle's heavy paths, in one run:
#   build  vs  tar -cf + sha256sum of the same files
#   check  vs  sha256sum of the bundle
#   sign   on a 1 GiB and on a 1 MiB bundle (absolute seconds)
#   peak RSS of check
# Each baseline and candidate run alternately BENCH_RUNS times (default 3); medians are shown,
# so page-cache warmth favours neither side. Goals (issue 2): build <= 1.1x, check <= 1.1x,
# sign < 0.2 s at 1 GiB, check < 16 MiB peak RSS.
#
#   bench/bundle.sh [--update-doc]     (--update-doc, or BENCH_UPDATE_DOC=1, rewrites our block
#                                       in docs/benchmarks.md)
# Environment: TF_BUILD (default <src>/build), BENCH_FILES (8), BENCH_FILE_MIB (128),
# BENCH_RUNS (3), BENCH_TMP (/var/tmp).
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TF_BUILD=${TF_BUILD:-$SRC/build}
TB=$TF_BUILD/builder/tiferry-build
TI=$TF_BUILD/installer/tiferry
FILES=${BENCH_FILES:-8}
FILE_MIB=${BENCH_FILE_MIB:-128}
RUNS=${BENCH_RUNS:-3}
UPDATE_DOC=${BENCH_UPDATE_DOC:-0}
if [[ ${1:-} == --update-doc ]]; then
	UPDATE_DOC=1
fi
for b in "$TB" "$TI"; do
	[[ -x $b ]] || { echo "bench: '$b' missing (build first or set TF_BUILD)" >&2; exit 2; }
done
need_mib=$((FILES * FILE_MIB * 3 + 64))
avail_mib=$(df -Pm "${BENCH_TMP:-/var/tmp}" | awk 'NR == 2 { print $4 }')
if ((avail_mib < need_mib)); then
	echo "bench: needs ${need_mib} MiB free in ${BENCH_TMP:-/var/tmp}, has ${avail_mib}" >&2
	exit 2
fi

T=$(mktemp -d "${BENCH_TMP:-/var/tmp}/tf-bench-XXXXXX")
cleanup() { rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
export TIFERRY_STATE_DIR=$T/state TIUP_HOME=$T/tiup
unset TIFERRY_NOW
mkdir -p "$T/payload" "$T/small" "$T/keys" "$T/trust" "$TIFERRY_STATE_DIR"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# time_cmd VAR CMD...: seconds CMD took, appended to the array VAR.
time_cmd() {
	local -n acc=$1
	local t0 t1
	shift
	t0=$(now)
	"$@" >/dev/null
	t1=$(now)
	acc+=("$(elapsed "$t0" "$t1")")
}

# peak_rss_kib CMD...: the peak resident set of CMD in KiB.
peak_rss_kib() {
	if [[ -x /usr/bin/time ]]; then
		/usr/bin/time -f %M -o "$T/rss" "$@" >/dev/null 2>&1
		tail -1 "$T/rss"
		return
	fi
	# No GNU time: poll VmHWM (the high-water mark, so a late sample still sees the peak).
	"$@" >/dev/null 2>&1 &
	local pid=$! hwm=0 v
	while kill -0 "$pid" 2>/dev/null; do
		v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
		[[ -n $v ]] && hwm=$v
		sleep 0.02
	done
	wait "$pid"
	echo "$hwm"
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench: writing ${FILES} x ${FILE_MIB} MiB of random payload under $T" >&2
for i in $(seq 1 "$FILES"); do
	head -c $((FILE_MIB << 20)) /dev/urandom >"$T/payload/part-$i.bin"
done
head -c $((1 << 20)) /dev/urandom >"$T/small/one.bin"
total_bytes=$((FILES * FILE_MIB << 20))

"$TB" -q keygen --name builder --out "$T/keys" >/dev/null
"$TB" -q keygen --name approver --out "$T/keys" >/dev/null
cp "$T/keys/builder.pub" "$T/keys/approver.pub" "$T/trust/"
cat >"$T/trust/policy.yaml" <<'EOF'
keys:
  - {file: builder.pub, holder: "Bench Builder", role: builder}
  - {file: approver.pub, holder: "Bench Approver", role: approver}
require: {builder: 1, approver: 1}
EOF
cat >"$T/meta.yaml" <<'EOF'
topology:
  pd_servers:
    - host: 127.0.0.11
EOF
spec() { # FILE SOURCE
	printf 'cluster: bench\nmeta: %s\nsequence: 1\nvalidity: {days: 7}\nsigning_key: %s\npayload:\n  - {source: %s, path: data}\n' \
		"$T/meta.yaml" "$T/keys/builder.key" "$2" >"$1"
}
spec "$T/big.yaml" "$T/payload"
spec "$T/small.yaml" "$T/small"

baseline_build() {
	(cd "$T" && tar -cf "$T/base.tar" payload && sha256sum payload/*.bin)
}
# The same with the archive flushed to disk, as tiferry-build does (fsync) before it returns.
baseline_build_sync() {
	baseline_build && sync "$T/base.tar"
}
candidate_build() {
	"$TB" -q build --spec "$T/big.yaml" --out "$T/big.tar"
}

# Every timed run starts with no dirty pages left by the one before (sync, not timed), so no run
# pays for another's write-back.
echo "bench: build vs tar -cf + sha256sum, ${RUNS} alternating runs" >&2
b_build=() c_build=() y_build=()
for r in $(seq 1 "$RUNS"); do
	rm -f "$T/base.tar" "$T/big.tar"
	sync
	time_cmd b_build baseline_build
	rm -f "$T/base.tar"
	sync
	time_cmd y_build baseline_build_sync
	sync
	time_cmd c_build candidate_build
done
rm -f "$T/base.tar"
"$TB" -q sign --key "$T/keys/approver.key" "$T/big.tar"
bundle_bytes=$(stat -c %s "$T/big.tar")

echo "bench: check vs sha256sum BUNDLE" >&2
CHECK=("$TI" -q check "$T/big.tar" --trust "$T/trust" --cluster-meta "$T/meta.yaml")
"${CHECK[@]}" || { echo "bench: the bundle does not pass check" >&2; exit 1; }
b_check=() c_check=() o_check=()
for r in $(seq 1 "$RUNS"); do
	time_cmd b_check sha256sum "$T/big.tar"
	time_cmd c_check "${CHECK[@]}"
	# Context only: OpenSSL's SHA-256 (SHA-NI where the CPU has it), what check itself uses.
	time_cmd o_check openssl dgst -sha256 "$T/big.tar"
done
rss=()
for r in $(seq 1 "$RUNS"); do
	rss+=("$(peak_rss_kib "${CHECK[@]}")")
done

echo "bench: sign at 1 GiB and at 1 MiB" >&2
"$TB" -q build --spec "$T/small.yaml" --out "$T/small.tar"
sync
s_big=() s_small=()
for r in $(seq 1 "$RUNS"); do
	"$TB" -q keygen --name "signer-$r" --out "$T/keys" >/dev/null
	time_cmd s_big "$TB" -q sign --key "$T/keys/signer-$r.key" "$T/big.tar"
	time_cmd s_small "$TB" -q sign --key "$T/keys/signer-$r.key" "$T/small.tar"
done

mb=$(median "${b_build[@]}") mc=$(median "${c_build[@]}") my=$(median "${y_build[@]}")
kb=$(median "${b_check[@]}") kc=$(median "${c_check[@]}") ko=$(median "${o_check[@]}")
sb=$(median "${s_big[@]}") ss=$(median "${s_small[@]}")
rk=$(median "${rss[@]}")
rb=$(ratio "$mc" "$mb") rc=$(ratio "$kc" "$kb") ry=$(ratio "$mc" "$my") ro=$(ratio "$kc" "$ko")
verdict() { # VALUE OP LIMIT
	if awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { exit !(op == "le" ? v <= l : v < l) }'; then
		echo "met"
	else
		echo "**MISSED**"
	fi
}
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
kernel=$(uname -r)
fs=$(df -PT "$T" | awk 'NR == 2 { print $2 }')
ossl=$(openssl version | awk '{ print $1, $2 }')

report() {
	cat <<EOF
Measured $(date -u +%Y-%m-%dT%H:%MZ) by \`bench/bundle.sh\` on $(nproc) CPU(s) ($cpu), $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM,
Linux $kernel, $fs under ${BENCH_TMP:-/var/tmp}, $ossl; payload ${FILES} x ${FILE_MIB} MiB from /dev/urandom
($(mib $((total_bytes >> 10))) MiB, bundle $(mib $((bundle_bytes >> 10))) MiB). Medians of ${RUNS} alternating runs
(all runs: build ${c_build[*]} s vs ${b_build[*]} s, with sync ${y_build[*]} s; check ${c_check[*]} s
vs ${b_check[*]} s, openssl ${o_check[*]} s; sign ${s_big[*]} s vs ${s_small[*]} s). \`sync\` (untimed) before every timed build.
Load average at the start ${load_start}, at the end ${load_end} (other work on the machine adds noise).

| what | tiferry | baseline | ratio | goal | verdict |
|---|---|---|---|---|---|
| build | ${mc} s | ${mb} s (\`tar -cf\` + \`sha256sum\`) | ${rb}x | <= 1.1x | $(verdict "$rb" le 1.1) |
| build (same durability) | ${mc} s | ${my} s (the same + \`sync FILE\`) | ${ry}x | (<= 1.1x) | $(verdict "$ry" le 1.1) |
| check | ${kc} s | ${kb} s (\`sha256sum BUNDLE\`) | ${rc}x | <= 1.1x | $(verdict "$rc" le 1.1) |
| check (context) | ${kc} s | ${ko} s (\`openssl dgst -sha256 BUNDLE\`) | ${ro}x | | |
| sign, $(mib $((bundle_bytes >> 10))) MiB bundle | ${sb} s | 1 MiB bundle: ${ss} s | | < 0.2 s | $(verdict "$sb" lt 0.2) |
| check peak RSS | $(mib "$rk") MiB | | | < 16 MiB | $(verdict "$(mib "$rk")" lt 16) |
EOF
}
report

if ((UPDATE_DOC)); then
	doc=$SRC/docs/benchmarks.md
	report >"$T/block.md"
	python3 - "$doc" "$T/block.md" <<'EOF'
import os, sys
doc, block = sys.argv[1], open(sys.argv[2]).read()
head = "## Bundle build, check and sign"
begin, end = "<!-- bench/bundle.sh:begin -->", "<!-- bench/bundle.sh:end -->"
text = open(doc).read() if os.path.exists(doc) else "# Benchmarks\n"
new = begin + "\n" + block + end
if begin in text and end in text:
    a = text.index(begin)
    b = text.index(end) + len(end)
    text = text[:a] + new + text[b:]
elif head in text:
    a = text.index(head) + len(head)
    text = text[:a] + "\n\n" + new + "\n" + text[a:].lstrip("\n")
else:
    text = text.rstrip("\n") + "\n\n" + head + "\n\n" + new + "\n"
open(doc, "w").write(text)
EOF
	echo "bench: updated $doc" >&2
fi
