#!/usr/bin/env bash
# tiferry verify --scan against hostile endpoints (issue 13, item 3): a verdict of FIXED needs
# evidence. Endpoints from hostile_http.py on 127.0.0.181 answer etcd's JSON after the timeout,
# with two Content-Length headers, with a folded header, with no status line, cut short, or one
# byte every 2 s: each is UNKNOWN (exit 4, a receipt that says "unknown", never "pass"), and the
# dripping one ends within its --deadline. Evidence still gives FIXED: a refused port, TLS that
# demands a client certificate (openssl s_server -Verify 1), a whole answer that is not etcd's;
# plain etcd (Debian's /usr/bin/etcd) answering is VULNERABLE. Every process started here is
# stopped by its pid on exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tf_init scan

tf_need etcd openssl jq python3 timeout
TEST_VERIFY=$TF_BUILD/tests/test_verify
IP=127.0.0.181

PIDS=()
stop_all() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	PIDS=()
}
trap 'rc=$?; stop_all; (exit $rc); tf_cleanup' EXIT
W=$TF_TMP/w
mkdir -p "$W"
cd "$W"

# ---- the endpoints ----
# free ports: etcd's client and peer ports, the TLS server's, and one nothing listens on
read -r CP PP TP FREE < <(python3 -c '
import socket
ss=[socket.socket() for _ in range(4)]
for s in ss: s.bind(("127.0.0.181", 0))
print(*[s.getsockname()[1] for s in ss])
for s in ss: s.close()')
DELAY=3 # the delayed answer comes after 3 s; the probes wait 1 s
python3 "$TF_SRC/tests/integration/hostile_http.py" $IP $DELAY delayed dup-length folded \
	no-status cut not-etcd drip >"$W/hostile.out" 2>"$W/hostile.err" &
PIDS+=($!)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key \
	-out ca.crt -days 30 -subj "/CN=scan-ca" 2>/dev/null
openssl s_server -quiet -accept "$IP:$TP" -cert ca.crt -key ca.key -CAfile ca.crt -Verify 1 \
	-verify_return_error -www >"$W/s_server.log" 2>&1 </dev/null &
PIDS+=($!)
etcd --name s1 --data-dir "$W/etcd" --listen-client-urls "http://$IP:$CP" \
	--advertise-client-urls "http://$IP:$CP" --listen-peer-urls "http://$IP:$PP" \
	--initial-advertise-peer-urls "http://$IP:$PP" --initial-cluster "s1=http://$IP:$PP" \
	>"$W/etcd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
	grep -q '^ready$' "$W/hostile.out" 2>/dev/null &&
		curl -s "http://$IP:$CP/health" >/dev/null 2>&1 &&
		(exec 3<>"/dev/tcp/$IP/$TP") 2>/dev/null && break
	sleep 0.2
done
port() { awk -v m="$1" '$1 == m {print $2}' "$W/hostile.out"; }

V=("$TIFERRY" verify --timeout 1)
verdict() { jq -r '.scan[0].verdict' <<<"$TF_OUT"; }
# probes VERDICT: the probes with that verdict in the last --json output, sorted
probes() { jq -r --arg v "$1" '[.scan[0].probes | to_entries[] | select(.value == $v) | .key] | sort | join(" ")' <<<"$TF_OUT"; }
PLAIN="plain.v2-keys plain.v3-kv-range plain.version"
ALL="$PLAIN tls.v2-keys tls.v3-kv-range tls.version"

# ---- no evidence: UNKNOWN, exit 4 (each was FIXED with exit 0 before) ----
# hostile NAME MODE REASON [UNKNOWN_PROBES]
hostile() {
	local name=$1 mode=$2 why=$3 unk=${4:-$PLAIN}
	assert_run "$name: exit 4 (unknown)" 4 "" "${V[@]}" --scan "$IP:$(port "$mode")" --json
	assert_eq "$name: verdict UNKNOWN" "$(verdict)" UNKNOWN
	assert_eq "$name: result unknown" "$(jq -r .result <<<"$TF_OUT")" unknown
	assert_eq "$name: which probes are unknown" "$(probes UNKNOWN)" "$unk"
	assert_has "$name: the reason is shown" \
		"$(jq -r '[.checks[] | select(.id == "scan.plain.version")][0].detail' <<<"$TF_OUT")" "$why"
}
assert_has() { if [[ $2 == *"$3"* ]]; then pass "$1"; else fail "$1: no '$3' in '$2'"; fi; }
hostile "etcd's JSON after the timeout" delayed "timed out after 1000 ms" "$ALL"
hostile "duplicate Content-Length" dup-length "repeated Content-Length header"
hostile "folded header" folded "folded header line"
hostile "no status line" no-status "not an HTTP/1.x response"
hostile "answer cut short" cut "the answer stopped before its end"
assert_run "text report says UNKNOWN and why" 4 "UNKNOWN (nothing proved)" \
	"${V[@]}" --scan "$IP:$(port folded)"
assert_has "text report: scan line" "$TF_OUT" "scan $IP:$(port folded): UNKNOWN"
assert_run "one UNKNOWN and one FIXED endpoint: still exit 4" 4 "" \
	"${V[@]}" --scan "$IP:$(port no-status)" "$IP:$FREE" --json
assert_eq "...each endpoint its verdict" "$(jq -r '[.scan[].verdict] | join(" ")' <<<"$TF_OUT")" \
	"UNKNOWN FIXED"
assert_run "UNKNOWN and VULNERABLE: exit 1 (the failure wins)" 1 "" \
	"${V[@]}" --scan "$IP:$(port no-status)" "$IP:$CP" --json
assert_eq "...result fail" "$(jq -r .result <<<"$TF_OUT")" fail

# ---- one byte every 2 s (a 5 s timeout never fires): the deadline ends each probe ----
t0=$(date +%s.%N)
assert_run "slow drip: exit 4 within the deadline" 4 "" \
	timeout 120 "$TIFERRY" verify --timeout 5 --deadline 3 --scan "$IP:$(port drip)" --json
t1=$(date +%s.%N)
assert_eq "slow drip: verdict UNKNOWN" "$(verdict)" UNKNOWN
assert_eq "slow drip: every probe unknown" "$(probes UNKNOWN)" "$ALL"
assert_has "slow drip: the deadline is named" \
	"$(jq -r '[.checks[] | select(.id == "scan.plain.v2-keys")][0].detail' <<<"$TF_OUT")" \
	"the probe's deadline of 3000 ms passed"
# a correctness bound, not a benchmark: 6 probes one after another, 3 s each, plus slack
secs=$(awk -v a="$t1" -v b="$t0" 'BEGIN{printf "%.1f", a-b}')
if awk -v s="$secs" 'BEGIN{exit !(s < 6 * 3 + 5)}'; then
	pass "slow drip: ended in $secs s (bound 23 s)"
else
	fail "slow drip: took $secs s, over 6 probes x 3 s deadline + 5 s"
fi
assert_run "--deadline checks its value" 2 "--deadline takes seconds" \
	"$TIFERRY" verify --deadline 0 --scan "$IP:$FREE"

# ---- evidence: FIXED ----
assert_run "refused port: FIXED, exit 0" 0 "" "${V[@]}" --scan "$IP:$FREE" --json
assert_eq "refused port: verdict" "$(verdict)" FIXED
assert_eq "refused port: the evidence" \
	"$(jq -r '[.checks[] | select(.id | startswith("scan.")) | .evidence.end // empty] | unique | join(",")' <<<"$TF_OUT")" refused
assert_run "TLS demanding a client certificate: FIXED, exit 0" 0 "" "${V[@]}" --scan "$IP:$TP" --json
assert_eq "TLS demanding a client certificate: verdict" "$(verdict)" FIXED
assert_eq "TLS demanding a client certificate: every probe refused" "$(probes REFUSED)" "$ALL"
assert_eq "TLS demanding a client certificate: the alert (certificate_required)" \
	"$(jq -r '[.checks[] | select(.id == "scan.tls.version")][0].evidence.tls_alert' <<<"$TF_OUT")" 116
assert_run "a whole answer that is not etcd's: FIXED, exit 0" 0 "" \
	"${V[@]}" --scan "$IP:$(port not-etcd)" --json
assert_eq "not etcd's: verdict" "$(verdict)" FIXED
assert_eq "not etcd's: plain probes saw HTTP 404" \
	"$(jq -r '[.checks[] | select(.id == "scan.plain.version")][0].evidence.status' <<<"$TF_OUT")" 404

# ---- plain etcd answering: VULNERABLE ----
assert_run "plain etcd: VULNERABLE, exit 1" 1 "" "${V[@]}" --scan "$IP:$CP" --json
assert_eq "plain etcd: verdict" "$(verdict)" VULNERABLE
# etcd 3.4 serves v2 only with --enable-v2: /v2/keys is its 404 text page
assert_eq "plain etcd: the v3 and version probes exposed" "$(probes EXPOSED)" \
	"plain.v3-kv-range plain.version"

# ---- receipts: "unknown" is recorded, never "pass" ----
tf_keygen "$W" auditor ecdsa-p256
R=$W/r-unknown.json
assert_run "receipt for an UNKNOWN scan: written, exit 4" 4 "receipt $R" \
	"${V[@]}" --scan "$IP:$(port dup-length)" --receipt "$R" --receipt-key "$W/auditor.key"
assert_eq "receipt: result unknown" "$(jq -r .result "$R")" unknown
assert_eq "receipt: exit code 4" "$(jq -r .exit_code "$R")" 4
assert_eq "receipt: verdict UNKNOWN" "$(jq -r '.scan[0].verdict' "$R")" UNKNOWN
assert_eq "receipt: 4 unknown checks (3 probes and the verdict)" "$(jq -r .counts.unknown "$R")" 4
assert_false "receipt: no 'pass' result" grep -q '"result": *"pass"' "$R"
assert_run "receipt: signature verifies (pinned)" 0 "signature verifies with the given key" \
	"$TEST_VERIFY" --receipt-verify "$R" "$W/auditor.pub"
assert_run "receipt: inspect --receipt shows the unknown count" 0 "result unknown: " \
	"$TIFERRY_BUILD" inspect --receipt "$R" --key "$W/auditor.pub"
assert_has "receipt: inspect --receipt counts" "$TF_OUT" ", 4 unknown ("
R2=$W/r-fixed.json
assert_run "receipt for a FIXED scan: exit 0" 0 "receipt $R2" \
	"${V[@]}" --scan "$IP:$TP" --receipt "$R2" --receipt-key "$W/auditor.key"
assert_eq "receipt (FIXED): result pass" "$(jq -r .result "$R2")" pass
assert_eq "receipt (FIXED): no unknown" "$(jq -r .counts.unknown "$R2")" 0

stop_all
tf_finish
