#!/usr/bin/env bash
# `tiferry-build mirror verify|subset` end to end (issue 3): TiUP's own signed data, generated
# mirrors and offline packages (tests/mirrorgen), tampering, usage errors, and a subset that
# carries no keys/ and verifies again after a tar round trip.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # TF_SRC and TF_BUILD only: no tf_init here
BIN=$TF_BUILD/builder/tiferry-build
if [ ! -x "$BIN" ]; then
	echo "it_mirror: SKIP: $BIN is not built (tiferry-build does not exist yet)"
	exit 0
fi
SRC=$TF_SRC
FIX=$SRC/tests/fixtures/tiup-testdata # TiUP's own signed data, vendored (see its README.md)
GEN=$SRC/tests/mirrorgen/mkmirror.py
CHECK=$SRC/tests/mirrorgen/check_mirror.sh
T=$(mktemp -d "${TMPDIR:-/tmp}/it-mirror-XXXXXX")
trap 'rm -rf "$T"' EXIT
KEYS=${TMPDIR:-/tmp}/tiferry-mirrorgen-keys-$(id -u)
fails=0

ok() { echo "ok   $*"; }
bad() {
	echo "FAIL $*"
	fails=$((fails + 1))
}
# expect CODE DESCRIPTION CMD...: runs CMD (output in $T/out), checks its exit code
expect() {
	local want=$1 what=$2 got=0
	shift 2
	"$@" >"$T/out" 2>&1 || got=$?
	if [ "$got" = "$want" ]; then ok "$what (exit $got)"; else
		bad "$what: exit $got, expected $want"
		sed 's/^/     | /' "$T/out" | head -20
	fi
}
# has PATTERN DESCRIPTION: the last command's output matches PATTERN
has() {
	if grep -qE -- "$1" "$T/out"; then ok "$2"; else
		bad "$2: no line matches '$1'"
		sed 's/^/     | /' "$T/out" | head -20
	fi
}
gen() { python3 "$GEN" "$@" --tarball-size 4096 --key-cache "$KEYS" >/dev/null; }

cd "$T"

# --- usage
expect 2 "no subcommand" "$BIN" mirror
expect 2 "unknown subcommand" "$BIN" mirror frobnicate
expect 2 "verify without PATH" "$BIN" mirror verify
expect 2 "verify with a bad --at" "$BIN" mirror verify . --at yesterday
expect 2 "subset without --out" "$BIN" mirror subset .
expect 0 "--help" "$BIN" mirror verify --help
has "manifests-only" "--help names the options"

# --- TiUP's own signed test data
M=$FIX/manifests
expect 0 "real TiUP data, --root 1.root.json, --manifests-only, before 2031-10-21" \
	"$BIN" mirror verify "$M" --root "$M/1.root.json" --manifests-only --at 2031-10-20T00:00:00Z
has "1\.index\.json" "the report names each manifest"
has "not checked" "absent tarballs are said to be skipped"
expect 0 "real TiUP data, today" "$BIN" -q mirror verify "$M" --root "$M/1.root.json" --manifests-only
expect 1 "real TiUP data, after it expired" "$BIN" mirror verify "$M" --root "$M/1.root.json" \
	--manifests-only --at 2031-10-22T00:00:00Z
has "timestamp\.json: \[expiry\]" "expired timestamp named with its rule"
expect 1 "TiUP's official root.json is expired today (issue #2722)" \
	"$BIN" mirror verify "$M" --manifests-only
has "root\.json: \[expiry\]" "the official root named as expired"
expect 1 "polluted TIUP_HOME" "$BIN" mirror verify "$FIX/polluted" --at 2026-01-01T00:00:00Z
has "manifests/index\.json: \[signature\]" "bad index signature named"
has "manifests/timestamp\.json: \[expiry\]" "expired timestamp named"
expect 1 "tarballs required without --manifests-only" "$BIN" -q mirror verify "$M" --root "$M/1.root.json"
has "\[present\]" "absent tarballs named"
expect 1 "--json on a failure" "$BIN" mirror verify "$FIX/polluted" --json --at 2026-01-01T00:00:00Z
"$BIN" mirror verify "$FIX/polluted" --json --at 2026-01-01T00:00:00Z >"$T/json" 2>/dev/null || true
if jq -e '.ok == false and ([.checks[] | select(.status == "fail")] | length) == 4' "$T/json" >/dev/null 2>&1; then
	ok "--json report"
else bad "--json report"; fi

# --- a generated mirror and its offline package
gen g --package pkg
PKG=pkg/tidb-community-server-v8.1.0-linux-amd64.tar.gz
if "$CHECK" g >/dev/null; then ok "independent checker accepts the generated mirror"; else bad "independent checker"; fi
expect 0 "generated mirror verifies" "$BIN" mirror verify g
has "keys/: .*never packed" "keys/ is pointed out"
has "tiup-linux-amd64\.tar\.gz: same bytes as the signed tiup v1\.16\.1" "tiup-<os>-<arch> copy checked"
expect 0 "offline package verifies without unpacking" "$BIN" mirror verify "$PKG"
expect 0 "--json on success" "$BIN" mirror verify "$PKG" --json
if jq -e '.ok == true and .summary.tarballs_ok == 14' "$T/out" >/dev/null; then ok "--json summary"; else bad "--json summary"; fi

for c in "tarball-byte:sha256" "tarball-length:length" "index-sig:signature" "tiup-copy:unsigned"; do
	gen "t-${c%%:*}" --tamper "${c%%:*}" --package "tp-${c%%:*}"
	expect 1 "tampered (${c%%:*}) mirror refused" "$BIN" mirror verify "t-${c%%:*}"
	has "\[${c##*:}\]" "tampering named by rule ${c##*:}"
	expect 1 "tampered (${c%%:*}) package refused" "$BIN" -q mirror verify "tp-${c%%:*}"/*.tar.gz
done
gen exp --expired-timestamp --package exppkg
expect 1 "expired timestamp refused" "$BIN" mirror verify exp
has "timestamp\.json: \[expiry\]" "expired timestamp named"
expect 1 "expired timestamp refused in a package" "$BIN" mirror verify exppkg/*.tar.gz
has "timestamp\.json: \[expiry\]" "expired timestamp named in the package"

# --- subset
expect 0 "subset of the offline package" "$BIN" mirror subset "$PKG" --out sub
has "carry tiup +v1\.16\.1 +linux/amd64" "newest tiup picked"
has "carry ctl +v8\.1\.0 +linux/arm64" "newest ctl picked"
has "full mirror has [0-9]+ bytes" "sizes reported"
if [ ! -e sub/keys ] && [ ! -e sub/local_install.sh ]; then ok "no keys/, no local_install.sh"; else bad "subset carries keys/ or local_install.sh"; fi
for f in 1.root.json root.json timestamp.json snapshot.json 1.index.json 1.cluster.json; do
	cmp -s "g/$f" "sub/$f" || bad "$f is not byte for byte the signed one"
done
ok "manifests byte for byte"
expect 0 "subset verifies" "$BIN" mirror verify sub
expect 0 "subset verifies with the source root as anchor" "$BIN" -q mirror verify sub --root g/1.root.json
tar -C sub -cf sub.tar . && mkdir x && tar -C x -xf sub.tar
expect 0 "subset verifies after a tar round trip" "$BIN" -q mirror verify x
expect 0 "subset with exact version and platform" "$BIN" mirror subset g --out sub2 \
	--component cluster --version cluster=v1.10.0 --platform linux/arm64 --json
if jq -e '.versions == {"cluster":"v1.10.0"} and .platforms == ["linux/arm64"]' "$T/out" >/dev/null; then
	ok "summary JSON for the bundle"
else bad "summary JSON"; fi
[ -f sub2/cluster-v1.10.0-linux-arm64.tar.gz ] && [ ! -e sub2/tiup-linux-arm64.tar.gz ] &&
	ok "only the selected tarballs" || bad "wrong tarballs in sub2"
expect 1 "subset of a tampered mirror refused" "$BIN" mirror subset t-tarball-byte --out sub3
[ ! -e sub3 ] && ok "nothing left behind" || bad "sub3 left behind"
expect 2 "subset of an unknown component" "$BIN" mirror subset g --out sub4 --component pd
expect 2 "subset into a non-empty folder" "$BIN" mirror subset g --out sub
has "output folder '.*sub' is not empty: give a new or empty folder" "non-empty folder: says what to give"
expect 2 "subset for a platform without arch" "$BIN" mirror subset g --out sub5 --platform linux
has "platform 'linux' is not os/arch \\(like linux/amd64\\)" "bad platform: shows the form"

if [ "$fails" -gt 0 ]; then
	echo "it_mirror: $fails failure(s)"
	exit 1
fi
echo "it_mirror: all passed"
