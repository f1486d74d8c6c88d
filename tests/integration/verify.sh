#!/usr/bin/env bash
# tiferry verify against real etcd (Debian's /usr/bin/etcd) on 127.0.0.16x loopback addresses,
# with certificates made here by the openssl command line. Each mode gets the verdict a scanner
# would give: plain http and TLS without client-cert-auth are VULNERABLE and fail; mutual TLS is
# FIXED and passes; https clients with http peers, a server certificate from another CA and a
# member missing from meta.yaml fail; a certificate expiring in 10 days warns. Receipts are
# checked with tf_receipt_verify (through test_verify) and with stock openssl. Every process
# started here is stopped by its pid on exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tf_init verify

tf_need etcd etcdctl openssl jq python3
TEST_VERIFY=$TF_BUILD/tests/test_verify

PIDS=()
stop_all() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 30); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	PIDS=()
}
trap 'rc=$?; stop_all; (exit $rc); tf_cleanup' EXIT

W=$TF_TMP/w
mkdir -p "$W"
cd "$W"

# ---- certificates (EC P-256: fast to make; TiUP makes RSA, which verify treats the same) ----
mkca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" \
		-out "$1.crt" -days 3650 -subj "/O=PingCAP/OU=TiUP/CN=$1" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
		2>/dev/null
}
# mkcert NAME CA DAYS SANS
mkcert() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" \
		-out "$1.csr" -subj "/CN=$1" 2>/dev/null
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n' \
		"$4" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -days "$3" \
		-extfile "$1.ext" -out "$1.crt" 2>/dev/null
	chmod 0600 "$1.key"
}
mkca ca
mkca otherca
mkcert client ca 365 "DNS:client"
SANS="DNS:localhost,IP:127.0.0.1"
IP_PLAIN=127.0.0.161 IP_TLSONLY=127.0.0.162 IP_PEERHTTP=127.0.0.163 IP_OTHERCA=127.0.0.164
IP_EXPIRING=127.0.0.165 IP_M1=127.0.0.166 IP_M2=127.0.0.167 IP_M3=127.0.0.168 IP_TIKV=127.0.0.169
IP_KVOPEN=127.0.0.171 IP_DBOPEN=127.0.0.172
for ip in $IP_TLSONLY $IP_PEERHTTP $IP_M1 $IP_M2 $IP_M3 $IP_TIKV $IP_KVOPEN $IP_DBOPEN; do
	mkcert "node-$ip" ca 3650 "$SANS,IP:$ip"
done
mkcert "node-$IP_OTHERCA" otherca 3650 "$SANS,IP:$IP_OTHERCA"
mkcert "node-$IP_EXPIRING" ca 10 "$SANS,IP:$IP_EXPIRING"

# ---- ports: free high ports, one client and one peer port shared by all addresses ----
read -r CP PP SP < <(python3 -c '
import socket
ss=[socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])
for s in ss: s.close()')

# ---- etcd members ----
# start_etcd NAME IP CLIENT_SCHEME PEER_SCHEME CLUSTER TOKEN [extra flags...]
start_etcd() {
	local name=$1 ip=$2 cs=$3 ps=$4 cluster=$5 token=$6
	shift 6
	etcd --name "$name" --data-dir "$W/data-$name" \
		--listen-client-urls "$cs://$ip:$CP" --advertise-client-urls "$cs://$ip:$CP" \
		--listen-peer-urls "$ps://$ip:$PP" --initial-advertise-peer-urls "$ps://$ip:$PP" \
		--initial-cluster "$cluster" --initial-cluster-token "$token" \
		--initial-cluster-state new "$@" >"$W/etcd-$name.log" 2>&1 &
	PIDS+=($!)
}
mtls_flags() { # the flags of mutual TLS on both client and peer ports with node-IP's certificate
	local n=node-$1 ca=${2:-ca}
	echo --cert-file "$n.crt" --key-file "$n.key" --client-cert-auth --trusted-ca-file ca.crt \
		--peer-cert-file "$n.crt" --peer-key-file "$n.key" --peer-client-cert-auth \
		--peer-trusted-ca-file "$ca.crt"
}
pdname() { echo "pd-$1-$CP"; }

start_etcd "$(pdname $IP_PLAIN)" $IP_PLAIN http http "$(pdname $IP_PLAIN)=http://$IP_PLAIN:$PP" plain
start_etcd "$(pdname $IP_TLSONLY)" $IP_TLSONLY https https \
	"$(pdname $IP_TLSONLY)=https://$IP_TLSONLY:$PP" tlsonly \
	--cert-file "node-$IP_TLSONLY.crt" --key-file "node-$IP_TLSONLY.key" \
	--peer-cert-file "node-$IP_TLSONLY.crt" --peer-key-file "node-$IP_TLSONLY.key" \
	--peer-trusted-ca-file ca.crt
# client URLs https with client-cert-auth, peer URLs still http (tikv/pd#2996's half-done state)
start_etcd "$(pdname $IP_PEERHTTP)" $IP_PEERHTTP https http \
	"$(pdname $IP_PEERHTTP)=http://$IP_PEERHTTP:$PP" peerhttp \
	--cert-file "node-$IP_PEERHTTP.crt" --key-file "node-$IP_PEERHTTP.key" --client-cert-auth \
	--trusted-ca-file ca.crt
# shellcheck disable=SC2046
start_etcd "$(pdname $IP_OTHERCA)" $IP_OTHERCA https https \
	"$(pdname $IP_OTHERCA)=https://$IP_OTHERCA:$PP" otherca $(mtls_flags $IP_OTHERCA otherca)
# shellcheck disable=SC2046
start_etcd "$(pdname $IP_EXPIRING)" $IP_EXPIRING https https \
	"$(pdname $IP_EXPIRING)=https://$IP_EXPIRING:$PP" expiring $(mtls_flags $IP_EXPIRING)
M3="$(pdname $IP_M1)=https://$IP_M1:$PP,$(pdname $IP_M2)=https://$IP_M2:$PP,$(pdname $IP_M3)=https://$IP_M3:$PP"
for ip in $IP_M1 $IP_M2 $IP_M3; do
	# shellcheck disable=SC2046
	start_etcd "$(pdname $ip)" "$ip" https https "$M3" mtls3 $(mtls_flags "$ip")
done
# a TiKV status port stand-in: TLS, client certificate required, answers HTTP
openssl s_server -quiet -accept "$IP_TIKV:$SP" -cert "node-$IP_TIKV.crt" -key "node-$IP_TIKV.key" \
	-CAfile ca.crt -Verify 1 -verify_return_error -www >"$W/s_server.log" 2>&1 </dev/null &
PIDS+=($!)
# TiKV and TiDB status ports as TiUP leaves them (issue 12 2b): TLS, no client certificate asked
# for (TiKV's tls_acceptor without cert-allowed-cn, TiDB's setCNChecker without cluster-verify-cn)
for ip in $IP_KVOPEN $IP_DBOPEN; do
	openssl s_server -quiet -accept "$ip:$SP" -cert "node-$ip.crt" -key "node-$ip.key" \
		-CAfile ca.crt -www >"$W/s_server-$ip.log" 2>&1 </dev/null &
	PIDS+=($!)
done

# wait until every member answers (plain, TLS, or mutual TLS)
healthy() {
	local ip=$1 scheme=$2 ca=${3:-ca}
	etcdctl --endpoints "$scheme://$ip:$CP" --cacert "$ca.crt" --cert client.crt --key client.key \
		--dial-timeout 1s --command-timeout 2s endpoint health >/dev/null 2>&1
}
wait_healthy() {
	local ip=$1 scheme=$2 ca=${3:-ca} i
	for i in $(seq 100); do
		healthy "$ip" "$scheme" "$ca" && return 0
		sleep 0.2
	done
	echo "verify: etcd on $ip did not become healthy; its log:" >&2
	tail -5 "$W/etcd-$(pdname "$ip").log" >&2 || true
	return 1
}
T0=$(date +%s.%N)
wait_healthy $IP_PLAIN http
wait_healthy $IP_OTHERCA https otherca
for ip in $IP_TLSONLY $IP_PEERHTTP $IP_EXPIRING $IP_M1 $IP_M2 $IP_M3; do
	wait_healthy "$ip" https
done
echo "verify: 8 etcd members up in $(awk -v a="$(date +%s.%N)" -v b="$T0" 'BEGIN{printf "%.2f", a-b}') s (client port $CP, peer port $PP)"

# ---- TiUP's storage: one cluster per mode ----
# mkcluster NAME "PD_IP..." [TIKV_IP] [TIDB_IP]
mkcluster() {
	local name=$1 pds=$2 tikv=${3:-} tidb=${4:-} d=$TIUP_HOME/storage/cluster/clusters/$1 ip
	mkdir -p "$d/tls"
	cp ca.crt client.crt "$d/tls/"
	cp client.key "$d/tls/client.pem"
	chmod 0600 "$d/tls/client.pem"
	chmod 0700 "$d/tls"
	{
		echo "user: tidb"
		echo "tidb_version: v7.5.1"
		echo "topology:"
		echo "  global:"
		echo "    user: tidb"
		echo "    deploy_dir: /tidb-deploy"
		echo "    enable_tls: true"
		echo "  pd_servers:"
		for ip in $pds; do
			printf '    - host: %s\n      client_port: %s\n      peer_port: %s\n' "$ip" "$CP" "$PP"
		done
		if [[ -n $tikv ]]; then
			echo "  tikv_servers:"
			printf '    - host: %s\n      port: 20160\n      status_port: %s\n' "$tikv" "$SP"
		fi
		if [[ -n $tidb ]]; then
			echo "  tidb_servers:"
			printf '    - host: %s\n      port: 4000\n      status_port: %s\n' "$tidb" "$SP"
		fi
	} >"$d/meta.yaml"
}
mkcluster plain $IP_PLAIN
mkcluster tlsonly $IP_TLSONLY
mkcluster peerhttp $IP_PEERHTTP
mkcluster otherca $IP_OTHERCA
mkcluster expiring $IP_EXPIRING
mkcluster mtls "$IP_M1 $IP_M2 $IP_M3" $IP_TIKV
mkcluster statusopen "$IP_M1 $IP_M2 $IP_M3" $IP_KVOPEN $IP_DBOPEN
mkcluster missing "$IP_M1 $IP_M2 $IP_M3 127.0.0.170"
mkcluster badmode "$IP_M1"
chmod 0644 "$TIUP_HOME/storage/cluster/clusters/badmode/tls/client.pem"

V=("$TIFERRY" verify --timeout 3)
# status ID: the status of check ID in the last --json output ($TF_OUT), one per line
status() { jq -r --arg id "$1" '[.checks[] | select(.id == $id) | .status] | unique | join(",")' <<<"$TF_OUT"; }
detail() { jq -r --arg id "$1" '.checks[] | select(.id == $id) | .detail' <<<"$TF_OUT"; }
# status_at ID ENDPOINT, detail_at ID ENDPOINT: the same for one endpoint
status_at() { jq -r --arg id "$1" --arg e "$2" '.checks[] | select(.id == $id and .endpoint == $e) | .status' <<<"$TF_OUT"; }
detail_at() { jq -r --arg id "$1" --arg e "$2" '.checks[] | select(.id == $id and .endpoint == $e) | .detail' <<<"$TF_OUT"; }
# assert_has DESC TEXT NEEDLE (fixed string); assert_match DESC TEXT REGEX
assert_has() { if [[ $2 == *"$3"* ]]; then pass "$1"; else fail "$1: no '$3' in '$2'"; fi; }
assert_match() { if [[ $2 =~ $3 ]]; then pass "$1"; else fail "$1: '$2' does not match /$3/"; fi; }

# ---- plain http ----
assert_run "plain: scan says VULNERABLE" 1 "VULNERABLE" "${V[@]}" --scan "$IP_PLAIN:$CP"
assert_run "plain: scan --json" 1 "" "${V[@]}" --scan "$IP_PLAIN:$CP" --json
assert_eq "plain: scan verdict in JSON" "$(jq -r '.scan[0].verdict' <<<"$TF_OUT")" VULNERABLE
assert_eq "plain: v3 kv range EXPOSED" \
	"$(jq -r '.scan[0].probes["plain.v3-kv-range"]' <<<"$TF_OUT")" EXPOSED
assert_run "plain: verify fails" 1 "" "${V[@]}" --cluster plain --json
assert_eq "plain: no TLS handshake" "$(status tls.handshake)" fail
assert_eq "plain: plain HTTP answered" "$(status auth.plain-http-refused)" fail

# ---- TLS without --client-cert-auth ----
assert_run "tls-only: scan says VULNERABLE" 1 "VULNERABLE" "${V[@]}" --scan "$IP_TLSONLY:$CP"
assert_run "tls-only: scan --json" 1 "" "${V[@]}" --scan "$IP_TLSONLY:$CP" --json
assert_eq "tls-only: TLS probe EXPOSED, plain REFUSED" \
	"$(jq -r '.scan[0].probes | "\(.["tls.v3-kv-range"]) \(.["plain.v3-kv-range"])"' <<<"$TF_OUT")" \
	"EXPOSED REFUSED"
assert_run "tls-only: verify fails" 1 "" "${V[@]}" --cluster tlsonly --json
assert_eq "tls-only: client certificate not required" "$(status auth.client-cert-required)" fail
assert_eq "tls-only: handshake itself fine" "$(status tls.handshake)" pass

# ---- mutual TLS, 3 members, a TiKV status port ----
SCAN3=("$IP_M1:$CP" "$IP_M2:$CP" "$IP_M3:$CP")
assert_run "mtls: scan says FIXED" 0 "FIXED" "${V[@]}" --scan "${SCAN3[@]}"
assert_run "mtls: verify passes" 0 "" "${V[@]}" --cluster mtls --json
assert_eq "mtls: result" "$(jq -r .result <<<"$TF_OUT")" pass
assert_eq "mtls: no failures" "$(jq -r .counts.fail <<<"$TF_OUT")" 0
assert_eq "mtls: every member https" "$(status pd.members-https)" pass
assert_eq "mtls: as many members as meta.yaml" "$(status pd.member-count)" pass
assert_eq "mtls: member list has 3" \
	"$(jq -r '[.checks[] | select(.id == "pd.members-https")][0].evidence.members | length' <<<"$TF_OUT")" 3
assert_eq "mtls: PD API not served by etcd" "$(status pd.api-health)" skip
assert_eq "mtls: health" "$(status pd.health)" pass
assert_eq "mtls: TiKV status port checked" \
	"$(jq -r '[.checks[] | select(.kind == "tikv") | .status] | unique | join(",")' <<<"$TF_OUT")" pass
assert_eq "mtls: control host tls/ folder" "$(status control.tls-files)" pass
assert_eq "mtls: fingerprint is the server's" \
	"$(jq -r --arg e "$IP_M2:$CP" '.checks[] | select(.id == "cert.chain" and .endpoint == $e) | .evidence.sha256' <<<"$TF_OUT")" \
	"$(openssl x509 -in "node-$IP_M2.crt" -outform DER | sha256sum | cut -c1-64)"
assert_run "mtls: --pd mode passes" 0 "0 fail" "${V[@]}" --pd "https://$IP_M1:$CP" \
	"https://$IP_M2:$CP" --ca ca.crt --cert client.crt --key client.key
assert_run "mtls: plain lines when not a terminal" 0 "pass pd.members-https pd pd-$IP_M1-$CP" \
	"${V[@]}" --cluster mtls -v
if [[ -n ${VERIFY_SHOW:-} ]]; then cat "$TF_TMP/last.out"; fi
assert_false "mtls: no colour when not a terminal" grep -q $'\033' "$TF_TMP/last.out"
assert_run "mtls: -q shows only the summary" 0 "checks on 5 endpoints" "${V[@]}" --cluster mtls -q
assert_eq "mtls: -q output is one line" "$(wc -l <"$TF_TMP/last.out")" 1

# ---- TiKV/TiDB status ports over TLS without client authentication (what TiUP leaves) ----
# Before issue 12 2b verify failed here, i.e. on every correctly enabled real cluster.
assert_run "status open: verify passes with warnings" 0 "" "${V[@]}" --cluster statusopen --json
assert_eq "status open: result" "$(jq -r .result <<<"$TF_OUT")" warn
assert_eq "status open: no failures" "$(jq -r .counts.fail <<<"$TF_OUT")" 0
assert_eq "status open: TiKV status port warns" \
	"$(status_at auth.client-cert-required "$IP_KVOPEN:$SP")" warn
assert_eq "status open: TiDB status port warns" \
	"$(status_at auth.client-cert-required "$IP_DBOPEN:$SP")" warn
assert_has "status open: TiKV remedy" "$(detail_at auth.client-cert-required "$IP_KVOPEN:$SP")" \
	'server_configs.tikv."security.cert-allowed-cn" (tiferry-build: plan.restrict_cn: true)'
assert_has "status open: TiDB remedy" "$(detail_at auth.client-cert-required "$IP_DBOPEN:$SP")" \
	'server_configs.tidb."security.cluster-verify-cn"'
assert_eq "status open: PD still demands a client certificate" \
	"$(status_at auth.client-cert-required "$IP_M1:$CP")" pass
# PD's ports are the finding: TLS without client-cert-auth stays a failure (tls-only above)

# ---- client URLs https, peer URLs http ----
if [[ -n ${VERIFY_SHOW:-} ]]; then
	for c in plain tlsonly peerhttp otherca expiring missing; do
		script -qc "$TIFERRY verify --timeout 1 --cluster $c" /dev/null || true
	done
fi
assert_run "peer http: verify fails" 1 "" "${V[@]}" --cluster peerhttp --json
assert_eq "peer http: members check fails" "$(status pd.members-https)" fail
assert_has "peer http: names the member and its URL" "$(detail pd.members-https)" \
	"member pd-$IP_PEERHTTP-$CP has peer URL http://$IP_PEERHTTP:$PP"
assert_eq "peer http: client side is mutual TLS" "$(status auth.client-cert-required)" pass

# ---- a server certificate from another CA ----
assert_run "other CA: verify fails" 1 "" "${V[@]}" --cluster otherca --json
assert_eq "other CA: chain fails" "$(status cert.chain)" fail
assert_has "other CA: says why" "$(detail cert.chain)" "does not chain to the CA"
assert_eq "other CA: API not asked" "$(status pd.members-https)" skip

# ---- a server certificate expiring in 10 days ----
assert_run "expiring: verify passes with a warning" 0 "" "${V[@]}" --cluster expiring --json
assert_eq "expiring: expiry warns" "$(status cert.expiry)" warn
assert_match "expiring: days left" "$(detail cert.expiry)" "expires in (9|10) days"
assert_eq "expiring: result" "$(jq -r .result <<<"$TF_OUT")" warn

# ---- a member missing compared with meta.yaml ----
assert_run "missing: verify fails" 1 "" "${V[@]}" --cluster missing --json --timeout 1
assert_eq "missing: member count fails" "$(status_at pd.member-count "$IP_M1:$CP")" fail
assert_has "missing: names the missing member" "$(detail_at pd.member-count "$IP_M1:$CP")" \
	"3 members listed, meta.yaml has 4 PD: 1 missing (pd-127.0.0.170-$CP)"

# ---- before the change: no tls/ folder yet, verify still shows the exposure ----
mkcluster notls $IP_PLAIN
rm -rf "$TIUP_HOME/storage/cluster/clusters/notls/tls"
assert_run "no tls/: verify fails, not a usage error" 1 "" "${V[@]}" --cluster notls --json
assert_eq "no tls/: folder check fails" "$(status control.tls-files)" fail
assert_has "no tls/: handshake says why" "$(detail tls.handshake)" "no client TLS set-up"
assert_eq "no tls/: plain HTTP answered" "$(status auth.plain-http-refused)" fail

# ---- colour only on a terminal, never with NO_COLOR ----
if command -v script >/dev/null; then
	out=$(env -u NO_COLOR script -qc "$TIFERRY verify --timeout 1 --scan $IP_M1:$CP" /dev/null </dev/null || true)
	assert_has "terminal: a table in colour" "$out" $'\033[32mpass'
	assert_has "terminal: table header" "$out" "STATUS"
	out=$(NO_COLOR=1 script -qc "$TIFERRY verify --timeout 1 --scan $IP_M1:$CP" /dev/null </dev/null || true)
	if [[ $out == *$'\033['* ]]; then fail "terminal with NO_COLOR: colour codes"; else pass "terminal with NO_COLOR: no colour codes"; fi
fi

# ---- the control host's key modes ----
assert_run "bad mode: verify fails" 1 "client.pem has mode 0644" "${V[@]}" --cluster badmode

# ---- usage ----
assert_run "usage: nothing to verify" 2 "nothing to verify" "$TIFERRY" verify
assert_run "usage: --pd without certificates" 2 "--pd needs" "$TIFERRY" verify --pd "$IP_M1:$CP"
assert_run "usage: --cluster and --pd" 2 "exclude" "$TIFERRY" verify --cluster mtls --pd x:1 \
	--ca ca.crt --cert client.crt --key client.key
assert_run "usage: unknown cluster" 2 "no " "$TIFERRY" verify --cluster nosuch
assert_run "usage: bad endpoint" 2 "bad port" "$TIFERRY" verify --scan "$IP_M1:99999"
assert_run "usage: --help" 0 "--receipt-key" "$TIFERRY" verify --help

# ---- receipts ----
tf_keygen "$W" auditor ecdsa-p256
BID=0123456789abcdef0123456789abcdef
assert_run "receipt: written" 0 "receipt $W/r.json" "${V[@]}" --cluster mtls --receipt "$W/r.json" \
	--receipt-key "$W/auditor.key" --bundle-id $BID
assert_true "receipt: signature file" test -s "$W/r.json.sig"
assert_run "receipt: status ports open (a warning) still get one" 0 "receipt $W/r-open.json" \
	"${V[@]}" --cluster statusopen --receipt "$W/r-open.json" --receipt-key "$W/auditor.key" \
	--bundle-id $BID
assert_eq "receipt: it says warn" "$(jq -r .result "$W/r-open.json")" warn
assert_run "receipt: tf_receipt_verify with the key" 0 "signature verifies with the given key" \
	"$TEST_VERIFY" --receipt-verify "$W/r.json" "$W/auditor.pub"
assert_run "receipt: stock openssl (ECDSA)" 0 "Verified OK" \
	openssl dgst -sha256 -verify "$W/auditor.pub" -signature "$W/r.json.sig" "$W/r.json"
assert_eq "receipt: key id" "$(jq -r .signer.keyid "$W/r.json")" "$(tf_keyid "$W/auditor.pub")"
assert_eq "receipt: bundle and cluster" "$(jq -r '"\(.bundle_id) \(.cluster) \(.format)"' "$W/r.json")" \
	"$BID mtls tiferry-receipt/1"
assert_eq "receipt: member list inside" \
	"$(jq -r '[.checks[] | select(.id == "pd.members-https")][0].evidence.members | map(.name) | sort | join(" ")' "$W/r.json")" \
	"pd-$IP_M1-$CP pd-$IP_M2-$CP pd-$IP_M3-$CP"
sed 's/"pass"/"PASS"/' "$W/r.json" >"$W/t.json"
cp "$W/r.json.sig" "$W/t.json.sig"
assert_run "receipt: edited receipt rejected" 3 "does not verify" \
	"$TEST_VERIFY" --receipt-verify "$W/t.json" "$W/auditor.pub"
assert_run "receipt: edited receipt rejected by openssl" 1 "Verification failure" \
	openssl dgst -sha256 -verify "$W/auditor.pub" -signature "$W/t.json.sig" "$W/t.json"
# the control host's own key, made on first use (Ed25519)
assert_run "receipt: host key" 1 "made this host's receipt key" "${V[@]}" --scan "$IP_PLAIN:$CP" \
	--receipt "$W/r2.json"
assert_true "receipt: host key is 0600" test "$(stat -c %a "$TIFERRY_STATE_DIR/receipt.key")" = 600
assert_run "receipt: stock openssl (Ed25519)" 0 "Signature Verified Successfully" \
	openssl pkeyutl -verify -pubin -inkey "$TIFERRY_STATE_DIR/receipt.pub" -rawin \
	-in "$W/r2.json" -sigfile "$W/r2.json.sig"
assert_run "receipt: unpinned check says so" 0 "NOT pinned" "$TEST_VERIFY" --receipt-verify "$W/r2.json"
assert_eq "receipt: a failing run is recorded as such" "$(jq -r .result "$W/r2.json")" fail

# ---- 16 endpoints at once (figures for docs/benchmarks.md; timings are not asserted) ----
PD16=()
for i in $(seq 16); do
	case $((i % 3)) in 0) ip=$IP_M1 ;; 1) ip=$IP_M2 ;; *) ip=$IP_M3 ;; esac
	PD16+=("https://$ip:$CP")
done
B16=("${V[@]}" --pd "${PD16[@]}" --ca ca.crt --cert client.crt --key client.key --json)
t0=$(date +%s.%N)
assert_run "16 endpoints: pass" 0 "" "${B16[@]}"
t1=$(date +%s.%N)
n16=$(jq -r '.checks | length' <<<"$TF_OUT")
s16=$(jq -r .seconds <<<"$TF_OUT")
expect_exit 0 "${B16[@]}" --threads 1 || true
s1=$(jq -r .seconds <<<"$TF_OUT")
expect_exit 0 "${V[@]}" --scan $(for i in $(seq 16); do echo "$IP_PLAIN:$CP"; done) --json || true
sscan=$(jq -r .seconds <<<"$TF_OUT")
# 16 endpoints that accept connections and never answer: every probe waits for the timeout, so
# here the pool's concurrency shows (on loopback above, two CPUs bound the TLS work instead).
python3 -c '
import socket, time
ss = []
for _ in range(16):
    s = socket.socket(); s.bind(("127.0.0.171", 0)); s.listen(128); ss.append(s)
print(" ".join(str(s.getsockname()[1]) for s in ss), flush=True)
time.sleep(600)' >"$W/silent.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [[ -s $W/silent.out ]] && break; sleep 0.1; done
SILENT=()
for p in $(cat "$W/silent.out"); do SILENT+=("127.0.0.171:$p"); done
expect_exit 4 "${V[@]}" --scan "${SILENT[@]}" --timeout 0.1 --json || true
ssil=$(jq -r .seconds <<<"$TF_OUT")
assert_run "silent endpoints: exit 4 (unknown)" 4 "" "${V[@]}" --scan "${SILENT[@]}" --timeout 0.1 \
	--threads 4 --json
ssil4=$(jq -r .seconds <<<"$TF_OUT")
# issue 13 item 3: a timeout is no evidence of a refusal (this said FIXED before)
assert_eq "silent endpoints: UNKNOWN (nothing answered in time)" "$(jq -r '[.scan[].verdict] | unique | join(",")' <<<"$TF_OUT")" UNKNOWN
assert_eq "silent endpoints: result unknown, never pass" "$(jq -r .result <<<"$TF_OUT")" unknown
printf 'verify: 16 silent endpoints (96 probes, 0.1 s timeout): %s s with 16 threads, %s s with 4\n' "$ssil" "$ssil4"
printf 'verify: 16 PD endpoints, %s checks: %s s with 16 threads (%s s wall, process included), %s s with 1 thread; --scan of 16 endpoints: %s s\n' \
	"$n16" "$s16" "$(awk -v a="$t1" -v b="$t0" 'BEGIN{printf "%.3f", a-b}')" "$s1" "$sscan"

stop_all
tf_finish
