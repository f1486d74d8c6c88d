#!/usr/bin/env bash
# The documented example specs build, and the bundles they make check against their meta.yaml
# and the documented policy.yaml.
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

# The real case (docs/examples/change.yaml: tiup + a generated CA + recipients + plan), built from
# a copy of docs/examples/ with the files its header says to put beside it, and checked against
# docs/examples/policy.yaml as it is (docs/policy.md).
ex=$tmp/ex
cp -r "$src/docs/examples" "$ex"
python3 "$src/tests/mirrorgen/mkmirror.py" "$tmp/mirror" --package "$ex" >/dev/null
"$B" -q keygen --name builder --out "$ex/keys" >/dev/null
for n in alice bob; do "$B" -q keygen --name "$n" --out "$tmp/keys" >/dev/null; done
"$I" -q keygen --recipient --out "$tmp/rcp" >/dev/null
cp "$tmp/rcp/recipient.crt" "$ex/"
if "$B" -q build --spec "$ex/change.yaml" --out "$tmp/change.tar"; then ok "the real-case spec builds"; else bad "the real-case spec builds"; fi
tar -tf "$tmp/change.tar" >"$tmp/change.list" 2>/dev/null || true
for e in payload/mirror/cluster-v1.16.1-linux-amd64.tar.gz payload/tls/ca.pem.cms payload/tls/client.pem.cms payload/tls/ca.crt payload/topology/pd.yaml; do
	if grep -qx "$e" "$tmp/change.list"; then ok "the bundle carries $e"; else bad "the bundle lacks $e"; fi
done
if grep -q 'arm64\|/keys/\|local_install' "$tmp/change.list"; then bad "only linux/amd64, no mirror keys"; else ok "only linux/amd64, no mirror keys"; fi
if "$B" inspect "$tmp/change.tar" --json 2>/dev/null | python3 -c '
import json, sys
m = json.load(sys.stdin)
t = json.dumps(m)
sys.exit(0 if "demo-client" in t and "blackbox_exporter" in t and "v1.16.1" in t else 1)'; then
	ok "the plan and sections are signed in (restrict_cn with the client CN, tiup versions)"
else bad "the plan and sections in the manifest"; fi

trust=$tmp/trust-ex
mkdir -m 0755 "$trust"
cp "$src/docs/examples/policy.yaml" "$ex/keys/builder.pub" "$tmp/keys/alice.pub" "$tmp/keys/bob.pub" "$trust/"
chk_ex=("$I" check "$tmp/change.tar" --trust "$trust" --cluster-meta "$ex/meta.yaml")
err=$("${chk_ex[@]}" 2>&1 >/dev/null) && rc=0 || rc=$?
if [[ $rc -eq 3 && $err == *"role 'approver' needs 1"*"Build server (ops staging) (builder)"* ]]; then
	ok "policy.yaml: the builder's signature alone is rejected, naming the missing approver"
else bad "policy.yaml without an approver: rc $rc: $err"; fi
"$B" -q sign --key "$tmp/keys/bob.key" --trust "$trust" "$tmp/change.tar"
if "${chk_ex[@]}" -q; then ok "policy.yaml: builder + one approver passes"; else bad "policy.yaml: builder + approver"; fi
# The install's inputs on a control host: the recipient key opens every secret, and every host of
# meta.yaml is pinned (port 22 there: plain 'host key' entries, as ssh-keyscan -p 22 writes them).
ssh-keygen -q -t ed25519 -N '' -f "$tmp/hostkey" >/dev/null
for h in 10.0.1.11 10.0.1.12 10.0.1.13 10.0.1.21 10.0.1.31; do
	echo "$h $(cut -d' ' -f1,2 "$tmp/hostkey.pub")"
done >"$tmp/known_hosts"
if "${chk_ex[@]}" -q --inputs --recipient "$tmp/rcp" --known-hosts "$tmp/known_hosts"; then
	ok "check --inputs: the secrets open with the recipient key, every host pinned"
else bad "check --inputs with the example's recipient and hosts"; fi
grep -v '^10.0.1.13 ' "$tmp/known_hosts" >"$tmp/known_hosts.short"
err=$("${chk_ex[@]}" --inputs --recipient "$tmp/rcp" --known-hosts "$tmp/known_hosts.short" 2>&1 >/dev/null) && rc=0 || rc=$?
if [[ $rc -eq 2 && $err == *"10.0.1.13"* ]]; then ok "check --inputs names the host not pinned"; else bad "unpinned host: rc $rc: $err"; fi

echo "examples: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
