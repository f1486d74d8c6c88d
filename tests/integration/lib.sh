# Shared helpers for the integration tests (bash). Source it, then call tf_init once.
#
#   #!/usr/bin/env bash
#   set -euo pipefail
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   tf_init mytest                 # private $TF_TMP (removed on exit; kept if TF_KEEP=1), binaries found
#   expect_exit 3 "$TIFERRY" check b.tar --trust t   # runs; sets TF_RC, TF_OUT, TF_ERR
#   assert_run "bad sig rejected" 3 "does not verify" "$TIFERRY" check b.tar ...
#   assert_true "file kept" test -f x
#   tf_finish                      # prints "<name>: N passed, M failed"; exit 1 on any failure
#                                  # (or when nothing was asserted at all)
#
# Binaries: $TF_BUILD holds builder/tiferry-build and installer/tiferry, exported as
# $TIFERRY_BUILD and $TIFERRY. $TF_SRC is the source tree. ctest sets both; run by hand
# (`bash tests/integration/bundle.sh` from any folder) TF_SRC is found from this file's place and
# TF_BUILD defaults to $TF_SRC/build. Sourcing this file sets and exports both (absolute).
#
# Assertions never stop the script: each records a pass or a failure with its message, so one
# run reports every broken case. Set TF_VERBOSE=1 to echo every passing case too.
#   expect_exit N CMD...           runs CMD (stdin /dev/null); TF_RC, TF_OUT, TF_ERR; 0 when it exits N
#   assert_run DESC N PATTERN CMD  exit N and PATTERN (fixed string) in stderr or stdout
#   assert_reject DESC PATTERN CMD exit 3, PATTERN in stderr, stderr exactly one line
#   assert_true / assert_false DESC CMD...;  assert_eq DESC GOT WANT;  pass MSG;  fail MSG
# tf_init also points TIFERRY_STATE_DIR and TIUP_HOME into $TF_TMP and unsets TIFERRY_NOW, so no
# test reads or writes the machine's real state.
#
# Fixtures (all write below the folder given, usually $TF_TMP):
#   tf_keygen DIR NAME [ALG] [--passin SRC]  DIR/NAME.key, DIR/NAME.pub (tiferry-build keygen)
#   tf_keyid PUB                             hex sha256 of the DER SubjectPublicKeyInfo (openssl)
#   tf_trust DIR "builder=1 approver=1" PUB:HOLDER:ROLE...   trust folder with policy.yaml
#   tf_meta FILE [PD_CLIENT_PORT]            a small TiUP meta.yaml (3 PD, 1 TiKV, 1 TiDB)
#   tf_spec FILE CLUSTER META SEQ KEY PAYLOAD_SRC [VALIDITY_YAML]   a build spec
#   tf_payload DIR                           a few payload files (text, binary, empty, nested)
#   tf_tar_offsets BUNDLE                    "name header_offset data_offset size" per entry
#   tf_flip FILE OFFSET                      xor one byte of FILE at OFFSET with 0x01
#   tf_snapshot DIR                          listing (path, size, mtime, mode) for before/after
#   tf_sha256 FILE                           hex sha256 of a file

if [[ -n "${TF_LIB_LOADED:-}" ]]; then
	return 0
fi
TF_LIB_LOADED=1

# At source time, while BASH_SOURCE and the caller's folder still say where this file is.
TF_SRC=$(realpath -m "${TF_SRC:-$(dirname "${BASH_SOURCE[0]}")/../..}")
TF_BUILD=$(realpath -m "${TF_BUILD:-$TF_SRC/build}")
export TF_SRC TF_BUILD

TF_PASSED=0
TF_FAILED=0
TF_NAME=unnamed
TF_TMP=
TF_RC=0
TF_OUT=
TF_ERR=

# tf_init NAME: counters, a private temporary folder removed on exit, the binaries.
tf_init() {
	TF_NAME=$1
	TIFERRY_BUILD=$TF_BUILD/builder/tiferry-build
	TIFERRY=${TIFERRY_BIN:-$TF_BUILD/installer/tiferry} # TIFERRY_BIN: another build (the static one)
	export TIFERRY_BUILD TIFERRY
	local b
	for b in "$TIFERRY_BUILD" "$TIFERRY"; do
		if [[ ! -x $b ]]; then
			echo "$TF_NAME: binary '$b' missing (build first, or set TF_BUILD)" >&2
			exit 2
		fi
	done
	# A known umask: the installer refuses a group-writable trust folder (docs/bundle-format.md).
	umask 022
	TF_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tf-it-$TF_NAME-XXXXXX")
	trap tf_cleanup EXIT
	trap 'exit 130' INT TERM
	# Never let the real state or trust folders or the operator's clock leak into a test.
	export TIFERRY_STATE_DIR=$TF_TMP/state
	export TIUP_HOME=$TF_TMP/tiup-home
	unset TIFERRY_NOW
	mkdir -p "$TIFERRY_STATE_DIR" "$TIUP_HOME"
}

# tf_need TOOL...: exits 2 naming the first tool not in PATH.
tf_need() {
	local tool
	for tool in "$@"; do
		if ! command -v "$tool" >/dev/null; then
			echo "$TF_NAME: '$tool' missing" >&2
			exit 2
		fi
	done
}

tf_cleanup() {
	local rc=$?
	if [[ -n ${TF_KEEP:-} && -n $TF_TMP ]]; then
		echo "TF_KEEP: left $TF_TMP" >&2
	elif [[ -n $TF_TMP && -d $TF_TMP ]]; then
		chmod -R u+rwX "$TF_TMP" 2>/dev/null || true
		rm -rf "$TF_TMP"
	fi
	exit "$rc"
}

pass() {
	TF_PASSED=$((TF_PASSED + 1))
	if [[ -n ${TF_VERBOSE:-} ]]; then
		echo "ok   - $*"
	fi
}

fail() {
	TF_FAILED=$((TF_FAILED + 1))
	echo "FAIL - $*" >&2
}

# expect_exit N CMD...: runs CMD with stdout in $TF_OUT and stderr in $TF_ERR (also kept in
# $TF_TMP/last.out and last.err), its exit status in $TF_RC; returns 0 when it is N.
expect_exit() {
	local want=$1
	shift
	TF_RC=0
	"$@" >"$TF_TMP/last.out" 2>"$TF_TMP/last.err" </dev/null || TF_RC=$?
	TF_OUT=$(cat "$TF_TMP/last.out")
	TF_ERR=$(cat "$TF_TMP/last.err")
	[[ $TF_RC -eq $want ]]
}

# assert_run DESC N PATTERN CMD...: CMD exits N and PATTERN (fixed string, may be empty) occurs
# in its stderr or stdout.
assert_run() {
	local desc=$1 want=$2 pat=$3
	shift 3
	if ! expect_exit "$want" "$@"; then
		fail "$desc: exit $TF_RC, expected $want; stderr: ${TF_ERR:0:600}"
		return 0
	fi
	if [[ -n $pat && $TF_ERR != *"$pat"* && $TF_OUT != *"$pat"* ]]; then
		fail "$desc: exit $TF_RC as expected but no '$pat' in: ${TF_ERR:0:600}"
		return 0
	fi
	pass "$desc"
}

# assert_reject DESC PATTERN CMD...: exit 3, PATTERN in stderr, and stderr is one line (the
# rule every rejection follows: one line naming the entry, key or rule).
assert_reject() {
	local desc=$1 pat=$2 lines
	shift 2
	if ! expect_exit 3 "$@"; then
		fail "$desc: exit $TF_RC, expected 3; stderr: ${TF_ERR:0:600}"
		return 0
	fi
	if [[ $TF_ERR != *"$pat"* ]]; then
		fail "$desc: rejected but no '$pat' in: ${TF_ERR:0:600}"
		return 0
	fi
	lines=$(wc -l <"$TF_TMP/last.err")
	if [[ $lines -ne 1 ]]; then
		fail "$desc: rejection takes $lines lines, expected one: ${TF_ERR:0:600}"
		return 0
	fi
	pass "$desc"
}

# assert_true DESC CMD...: CMD succeeds (its output is discarded).
assert_true() {
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1 </dev/null; then
		pass "$desc"
	else
		fail "$desc: '$*' failed"
	fi
}

# assert_false DESC CMD...: CMD fails.
assert_false() {
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1 </dev/null; then
		fail "$desc: '$*' succeeded"
	else
		pass "$desc"
	fi
}

# assert_eq DESC GOT WANT
assert_eq() {
	if [[ "$2" == "$3" ]]; then
		pass "$1"
	else
		fail "$1: got '$2', expected '$3'"
	fi
}

# tf_finish: the summary line; exit status 1 when anything failed.
tf_finish() {
	echo "$TF_NAME: $TF_PASSED passed, $TF_FAILED failed"
	if [[ $TF_FAILED -ne 0 || $TF_PASSED -eq 0 ]]; then
		exit 1
	fi
	exit 0
}

# ---- fixtures ----

tf_sha256() {
	sha256sum "$1" | cut -d' ' -f1
}

# tf_keygen DIR NAME [ALG] [--passin SRC]: a signing key pair made by tiferry-build itself.
tf_keygen() {
	local dir=$1 name=$2 alg=${3:-ed25519}
	shift 2
	if [[ $# -gt 0 ]]; then
		shift
	fi
	"$TIFERRY_BUILD" -q keygen --name "$name" --out "$dir" --alg "$alg" "$@" >/dev/null
}

# tf_keyid PUB: the key id computed with stock openssl (independently of tiferry).
tf_keyid() {
	openssl pkey -pubin -in "$1" -outform DER | sha256sum | cut -d' ' -f1
}

# tf_trust DIR REQUIRE KEY...: DIR gets copies of the public keys and policy.yaml. REQUIRE is
# "role=count ..."; each KEY is "path/to/x.pub:Holder Name:role".
tf_trust() {
	local dir=$1 req=$2 spec f holder role r
	shift 2
	mkdir -p "$dir"
	{
		echo "keys:"
		for spec in "$@"; do
			IFS=: read -r f holder role <<<"$spec"
			cp "$f" "$dir/"
			printf '  - file: %s\n    holder: "%s"\n    role: %s\n' "$(basename "$f")" "$holder" "$role"
		done
		echo "require:"
		for r in $req; do
			printf '  %s: %s\n' "${r%%=*}" "${r#*=}"
		done
	} >"$dir/policy.yaml"
}

# tf_meta FILE [PD_CLIENT_PORT] [EXTRA_TIKV_HOST]: a TiUP meta.yaml.
tf_meta() {
	local file=$1 port=${2:-2379} extra=${3:-}
	cat >"$file" <<EOF
user: tidb
tidb_version: v7.5.0
last_ops_ver: v1.16.0
topology:
  global:
    user: tidb
    ssh_port: 22
    deploy_dir: /tidb-deploy
    data_dir: /tidb-data
  monitored:
    node_exporter_port: 9100
  pd_servers:
    - host: 127.0.0.11
      client_port: $port
      peer_port: 2380
    - host: 127.0.0.12
      client_port: $port
      peer_port: 2380
    - host: 127.0.0.13
      client_port: $port
      peer_port: 2380
  tikv_servers:
    - host: 127.0.0.21
      port: 20160
      status_port: 20180
  tidb_servers:
    - host: 127.0.0.31
      port: 4000
      status_port: 10080
EOF
	if [[ -n $extra ]]; then
		printf '    - host: %s\n      port: 4000\n      status_port: 10080\n' "$extra" >>"$file"
	fi
}

# tf_payload DIR: text, binary, empty and nested files, one executable.
tf_payload() {
	local d=$1
	mkdir -p "$d/bin" "$d/etc/deep/er"
	printf 'runbook: enable TLS\n' >"$d/runbook.md"
	head -c 70000 /dev/urandom >"$d/bin/tool"
	chmod 0755 "$d/bin/tool"
	: >"$d/etc/empty.conf"
	printf 'x' >"$d/etc/deep/er/one-byte"
}

# tf_spec FILE CLUSTER META SEQ KEY|"" PAYLOAD_SRC [VALIDITY_YAML]: a build spec (paths absolute).
tf_spec() {
	local file=$1 cluster=$2 meta=$3 seq=$4 key=$5 src=$6
	local validity=${7:-"  days: 30"}
	{
		echo "cluster: $cluster"
		echo "meta: $meta"
		echo "sequence: $seq"
		echo "validity:"
		echo "$validity"
		if [[ -n $key ]]; then
			echo "signing_key: $key"
		fi
		echo "payload:"
		echo "  - source: $src"
		echo "    path: files"
	} >"$file"
}

# tf_tar_offsets BUNDLE: one line per entry, "name header_offset data_offset size", in order.
tf_tar_offsets() {
	python3 - "$1" <<'EOF'
import sys, tarfile
with tarfile.open(sys.argv[1], "r:") as t:
    for m in t.getmembers():
        print(m.name, m.offset, m.offset_data, m.size)
EOF
}

# tf_flip FILE OFFSET: xor the byte at OFFSET with 0x01, in place.
tf_flip() {
	python3 - "$1" "$2" <<'EOF'
import sys
path, off = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(off)
    b = f.read(1)
    f.seek(off)
    f.write(bytes([b[0] ^ 1]))
EOF
}

# tf_snapshot DIR: what a "writes nothing" check compares before and after.
tf_snapshot() {
	find "$1" -printf '%p %y %s %T@ %m\n' | LC_ALL=C sort
}

# tf_change_kit DIR: what a change needs on both sides of the air gap, made in DIR: a generated
# offline package (tests/mirrorgen, independent of tiferry; its path in $TF_PKG), builder and
# approver keys, a trust folder requiring one of each, and the control host's recipient key pair
# (DIR/rcp).
tf_change_kit() {
	local d=$1
	mkdir -p "$d"
	python3 "$TF_SRC/tests/mirrorgen/mkmirror.py" "$d/mirror" --package "$d/pkg" >/dev/null
	TF_PKG=$(ls "$d"/pkg/tidb-community-server-*.tar.gz)
	tf_keygen "$d/keys" builder
	tf_keygen "$d/keys" approver
	tf_trust "$d/trust" "builder=1 approver=1" "$d/keys/builder.pub:Builder:builder" \
		"$d/keys/approver.pub:Approver:approver"
	"$TIFERRY" -q keygen --recipient --out "$d/rcp" >/dev/null
}

# ---- the runbook (issue 8) ----

# assert_runbook_shown DESC SIGNED.md SHOWN.md: SHOWN (from tiferry plan or inspect --runbook) is
# the signed runbook with only the approvals block inserted at its mark (blank lines squeezed).
assert_runbook_shown() {
	local desc=$1 signed=$2 shown=$3
	if diff <(grep -v '^<!-- tiferry:approvals -->$' "$signed" | cat -s) \
		<(grep -v -e '^| `[0-9a-f]\{16\}` |' -e '^| Key |' -e '^| --- | --- | --- | --- |' \
			-e '^Required by the trust policy' "$shown" | cat -s) >"$TF_TMP/runbook.diff"; then
		pass "$desc"
	else
		fail "$desc: $(head -20 "$TF_TMP/runbook.diff")"
	fi
}

# assert_renders DESC HTML PNG: headless Chromium (scripts/deps.sh) screenshots HTML into PNG at
# 1100x2400, and the picture is drawn, not blank (tests/tools/pngcheck.py).
assert_renders() {
	local desc=$1 html=$2 png=$3
	if timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$TF_TMP/chromium" --window-size=1100,2400 --screenshot="$png" \
		"file://$html" >"$TF_TMP/chromium.log" 2>&1; then
		assert_run "$desc" 0 "1100x2400" python3 "$TF_SRC/tests/tools/pngcheck.py" "$png" 1000 2000
	else
		fail "$desc: chromium failed: $(tail -3 "$TF_TMP/chromium.log")"
	fi
}
