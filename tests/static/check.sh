#!/usr/bin/env bash
# Checks the static installer: a static ELF with no interpreter, stripped size within budget,
# and that it runs, resolves host names from /etc/hosts and checks a bundle inside an empty
# chroot (no libc, no nsswitch.conf, nothing but the files each step names).
#
#   tests/static/check.sh BUILD_STATIC_DIR [TIFERRY_BUILD]
#
# TIFERRY_BUILD is the (dynamic) builder used to make a signed bundle for `tiferry check`;
# without it that step is skipped. Needs root for chroot(2), or unprivileged user namespaces.
set -euo pipefail

bdir=${1:?usage: tests/static/check.sh BUILD_STATIC_DIR [TIFERRY_BUILD]}
builder=${2:-}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
budget=$((10 * 1024 * 1024)) # stripped bytes
labhost_ip=127.0.77.7         # an address only this /etc/hosts can give

tiferry=$bdir/installer/tiferry
linkcheck=$bdir/tests/static/static_linkcheck
resolve=$bdir/tests/static/static_resolve

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }

# mkroot NAME BINARY [FILE...]: $tmp/NAME holding /BINARY's name, /etc/hosts and the files
# given as src=dst pairs; prints its path.
mkroot() {
	local root=$tmp/$1 bin=$2 pair
	shift 2
	mkdir -p "$root/etc"
	cp "$bin" "$root/"
	printf '127.0.0.1 localhost\n%s labhost\n' "$labhost_ip" >"$root/etc/hosts"
	for pair in "$@"; do
		mkdir -p "$(dirname "$root/${pair#*=}")"
		cp -r "${pair%%=*}" "$root/${pair#*=}"
	done
	printf '%s\n' "$root"
}

# inroot ROOT [VAR=value...] -- COMMAND...: runs COMMAND with ROOT as /, an empty environment
# but the variables given.
inroot() {
	local root=$1 envs=()
	shift
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	if [ "$(id -u)" -eq 0 ]; then
		env -i "${envs[@]}" "$(command -v chroot)" "$root" "$@"
	else
		env -i "${envs[@]}" "$(command -v unshare)" --user --map-root-user --root="$root" "$@"
	fi
}

for b in "$tiferry" "$linkcheck" "$resolve"; do
	if [ ! -x "$b" ]; then
		bad "$b is not built (make static)"
		continue
	fi
	n=$(basename "$b")
	desc=$(file -b "$b")
	case $desc in
	*"statically linked"* | *"static-pie linked"*) ok "$n: file says '${desc%%, BuildID*}'" ;;
	*) bad "$n: file says '$desc'" ;;
	esac
	if readelf -lW "$b" | grep -q 'INTERP'; then
		bad "$n has an ELF interpreter: $(readelf -lW "$b" | grep -A1 INTERP | tail -n1)"
	elif readelf -dW "$b" | grep -q NEEDED; then
		bad "$n needs shared libraries: $(readelf -dW "$b" | grep NEEDED | tr -s ' ')"
	else
		ok "$n: no ELF interpreter, no shared library"
	fi
	strip -o "$tmp/$n.stripped" "$b"
	size=$(stat -c %s "$tmp/$n.stripped")
	fig=$(awk -v s="$size" 'BEGIN { printf "%.2f MiB (%d bytes)", s / 1048576, s }')
	if [ "$size" -le "$budget" ]; then
		ok "$n: stripped size $fig, budget 10 MiB"
	else
		bad "$n: stripped size $fig is over the 10 MiB budget"
	fi
done
[ "$failed" -eq 0 ] || { echo "static: $passed passed, $failed failed"; exit 1; }

# Every library initialises with nothing on the host.
root=$(mkroot linkcheck "$tmp/static_linkcheck.stripped")
if out=$(inroot "$root" -- /static_linkcheck.stripped 2>&1); then
	ok "linkcheck runs in an empty root: $(tr '\n' ';' <<<"$out" | sed 's/;$//; s/;/; /g')"
else
	bad "linkcheck in an empty root: $out"
fi

# musl's resolver reads /etc/hosts itself: no NSS modules, no nsswitch.conf.
root=$(mkroot resolve "$resolve")
if out=$(inroot "$root" -- /static_resolve labhost 2>&1) && [ "$out" = "$labhost_ip" ]; then
	ok "resolves labhost to $labhost_ip from /etc/hosts in an empty root"
else
	bad "resolving labhost in an empty root gave: $out"
fi

root=$(mkroot tiferry "$tiferry")
if out=$(inroot "$root" -- /tiferry --help 2>&1); then
	ok "tiferry --help exits 0 in an empty root"
else
	bad "tiferry --help in an empty root: exit $?: $out"
fi

# A signed bundle, checked by the static binary in a root holding only it, the trust folder
# and the cluster's meta.yaml (the inputs `tiferry check` needs).
if ! inroot "$root" -- /tiferry check --help >/dev/null 2>&1; then
	echo "skip: tiferry has no check subcommand yet"
elif [ -z "$builder" ] || [ ! -x "$builder" ]; then
	echo "skip: tiferry check on a bundle (no dynamic tiferry-build given; make build makes one)"
else
	keys=$tmp/keys trust=$tmp/trust
	"$builder" -q keygen --name builder --out "$keys" >/dev/null
	"$builder" -q keygen --name approver --out "$keys" >/dev/null
	mkdir "$trust"
	cp "$keys"/*.pub "$trust/"
	printf 'keys:\n  - {file: builder.pub, holder: Builder, role: builder}\n  - {file: approver.pub, holder: Approver, role: approver}\nrequire: {builder: 1, approver: 1}\n' >"$trust/policy.yaml"
	"$builder" -q build --spec "$src/docs/examples/spec.yaml" --out "$tmp/bundle.tar"
	"$builder" -q sign --key "$keys/builder.key" "$tmp/bundle.tar"
	"$builder" -q sign --key "$keys/approver.key" "$tmp/bundle.tar"
	root=$(mkroot tiferry-check "$tiferry" "$tmp/bundle.tar=bundle.tar" "$trust=trust" \
		"$src/docs/examples/meta.yaml=meta.yaml")
	if out=$(inroot "$root" TIFERRY_STATE_DIR=/state -- /tiferry -q check /bundle.tar \
		--trust /trust --cluster-meta /meta.yaml 2>&1); then
		ok "tiferry check passes a signed bundle in an empty root"
	else
		bad "tiferry check in an empty root: exit $?: $out"
	fi
	# The same bundle with one approval short must be rejected (exit 3), not crash.
	"$builder" -q build --spec "$src/docs/examples/spec.yaml" --out "$root/unsigned.tar"
	rc=0
	out=$(inroot "$root" TIFERRY_STATE_DIR=/state -- /tiferry -q check /unsigned.tar \
		--trust /trust --cluster-meta /meta.yaml 2>&1) || rc=$?
	if [ "$rc" -eq 3 ]; then
		ok "tiferry check rejects an unsigned bundle in an empty root (exit 3: $out)"
	else
		bad "tiferry check on an unsigned bundle: exit $rc, expected 3: $out"
	fi
fi

echo "static: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
