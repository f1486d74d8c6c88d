#!/usr/bin/env bash
# A verify receipt travels back to the builder's side: tiferry-build inspect --receipt checks it
# (pinned to the control host's receipt key), refuses a changed receipt or another key, and an
# auditor checks the same signature with stock openssl.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tf_init receipt
ip=127.0.0.201
cport=$((24000 + RANDOM % 1000))
pport=$((cport + 1000))
etcd --name r1 --data-dir "$TF_TMP/etcd" --listen-client-urls "http://$ip:$cport" \
	--advertise-client-urls "http://$ip:$cport" --listen-peer-urls "http://$ip:$pport" \
	--initial-advertise-peer-urls "http://$ip:$pport" --initial-cluster "r1=http://$ip:$pport" \
	>"$TF_TMP/etcd.log" 2>&1 &
epid=$!
trap 'rc=$?; kill $epid 2>/dev/null; wait $epid 2>/dev/null || true; (exit $rc); tf_cleanup' EXIT
for _ in $(seq 1 50); do curl -s "http://$ip:$cport/health" >/dev/null && break; sleep 0.2; done

r=$TF_TMP/receipt.json
assert_run "scan of plain etcd: VULNERABLE, exit 1, receipt written" 1 "VULNERABLE" \
	"$TIFERRY" verify --scan "$ip:$cport" --receipt "$r"
pub=$TIFERRY_STATE_DIR/receipt.pub
assert_true "the control host's receipt key was made" test -f "$pub"
assert_eq "receipt key is private" "$(stat -c %a "$TIFERRY_STATE_DIR/receipt.key")" 600
assert_run "inspect --receipt, pinned: verifies" 0 "" "$TIFERRY_BUILD" inspect --receipt "$r" --key "$pub"
assert_true "the receipt says VULNERABLE" grep -q VULNERABLE "$r"
assert_true "auditor: openssl verifies the receipt" openssl pkeyutl -verify -pubin -inkey "$pub" \
	-rawin -in "$r" -sigfile "$r.sig"
tf_keygen "$TF_TMP/k" other
assert_run "another key: refused" 3 "" "$TIFERRY_BUILD" inspect --receipt "$r" --key "$TF_TMP/k/other.pub"
cp "$r" "$TF_TMP/changed.json"
cp "$r.sig" "$TF_TMP/changed.json.sig"
sed -i 's/VULNERABLE/FIXED/' "$TF_TMP/changed.json"
assert_run "a changed receipt: refused" 3 "does not verify" "$TIFERRY_BUILD" inspect \
	--receipt "$TF_TMP/changed.json" --key "$pub"
assert_false "auditor: openssl refuses it too" openssl pkeyutl -verify -pubin -inkey "$pub" \
	-rawin -in "$TF_TMP/changed.json" -sigfile "$TF_TMP/changed.json.sig"
tf_finish
