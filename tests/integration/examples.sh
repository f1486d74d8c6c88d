#!/usr/bin/env bash
# The documented example spec builds, and the bundle it makes checks against its meta.yaml.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # TF_SRC and TF_BUILD only: no tf_init here
B=$TF_BUILD/builder/tiferry-build
I=${TIFERRY_BIN:-$TF_BUILD/installer/tiferry}
src=$TF_SRC
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }

"$B" -q keygen --name builder --out "$tmp/keys" >/dev/null
"$B" -q keygen --name approver --out "$tmp/keys" >/dev/null
mkdir "$tmp/trust"
cp "$tmp"/keys/*.pub "$tmp/trust/"
printf 'keys:\n  - {file: builder.pub, holder: Builder, role: builder}\n  - {file: approver.pub, holder: Approver, role: approver}\nrequire: {builder: 1, approver: 1}\n' >"$tmp/trust/policy.yaml"

if "$B" -q build --spec "$src/docs/examples/spec.yaml" --out "$tmp/demo.tar"; then ok "example spec builds"; else bad "example spec builds"; fi
"$B" -q sign --key "$tmp/keys/builder.key" "$tmp/demo.tar"
"$B" -q sign --key "$tmp/keys/approver.key" "$tmp/demo.tar"
if TIFERRY_STATE_DIR="$tmp/state" "$I" -q check "$tmp/demo.tar" --trust "$tmp/trust" \
	--cluster-meta "$src/docs/examples/meta.yaml"; then ok "example bundle checks"; else bad "example bundle checks"; fi
if tar -tf "$tmp/demo.tar" | grep -x 'payload/topology/scale-out.yaml' >/dev/null; then ok "payload path as documented"; else bad "payload path"; fi

# Long work shows progress (bytes, rate) on a terminal, and nothing otherwise or with -q.
chk=("$I" check "$tmp/demo.tar" --trust "$tmp/trust" --cluster-meta "$src/docs/examples/meta.yaml")
export TIFERRY_STATE_DIR="$tmp/state"
tty_out=$(script -qec "${chk[*]}" /dev/null)
if [[ $tty_out == *"verifying: "*"B/s"* ]]; then ok "progress on a terminal"; else bad "progress on a terminal: $tty_out"; fi
quiet_out=$(script -qec "$I -q ${chk[*]:1}" /dev/null)
if [[ -z $quiet_out ]]; then ok "-q on a terminal: silent"; else bad "-q on a terminal printed: $quiet_out"; fi
plain_err=$("${chk[@]}" 2>&1 >/dev/null)
if [[ $plain_err != *$'\r'* && $plain_err != *"B/s"* ]]; then ok "no progress without a terminal"; else bad "progress without a terminal"; fi

echo "examples: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
