#!/usr/bin/env bash
# The opt-in plan item plan.restrict_cn (issue 12 2b), end to end against the lab. TiUP sets
# neither TiKV's security.cert-allowed-cn nor TiDB's security.cluster-verify-cn, so after its
# `tls enable` their status ports answer TLS clients without a certificate. With restrict_cn the
# builder signs the CNs TiUP issues to the nodes plus the client certificate's, and the install's
# restrict-cn step sets both options through `tiup cluster edit-config --topology-file` before
# `tls enable`, reading meta.yaml back (TiUP exits 0 when it rejects an edit). Refusals: with
# plan.enable_tls false, and with an intermediate (not self-signed) CA.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tf_init restrict_cn
LAB=$TF_SRC/tests/lab/lab.sh
lab=$TF_TMP/lab

bash "$LAB" start --net auto --hosts 2 "$lab" >"$TF_TMP/lab-start.log" 2>&1 ||
	{ cat "$TF_TMP/lab-start.log" >&2; bash "$LAB" stop "$lab" >/dev/null 2>&1 || true; exit 1; }
trap 'rc=$?; bash "$LAB" stop "$lab" >/dev/null 2>&1 || true; (exit $rc); tf_cleanup' EXIT
# shellcheck disable=SC1091
source "$lab/lab.env"
export TIFERRY_STATE_DIR=$TF_TMP/state
read -r -a kv_hosts <<<"$LAB_KV_HOSTS"
kv=${kv_hosts[0]}
cdir=$TIUP_HOME/storage/cluster/clusters/lab
w=$TF_TMP/w
mkdir -p "$w"
tf_change_kit "$w"
cp "$cdir/meta.yaml" "$w/meta.yaml"

spec() { # spec FILE PLAN_LINES TLS_LINE
	cat >"$1" <<-YAML
		cluster: lab
		meta: meta.yaml
		sequence: 1
		validity: {days: 2}
		signing_key: keys/builder.key
		tiup:
		  source: $TF_PKG
		  platforms: [linux/amd64]
		$3
		plan:
		$2
	YAML
}
GEN="tls: {ca: generate, client_cn: ops-client, recipients: [rcp/recipient.crt]}"

# ---- the builder: refusals and the signed list ----
spec "$w/notls.yaml" "  enable_tls: false
  restrict_cn: true" "$GEN"
assert_run "build: restrict_cn without enable_tls refused" 2 "needs plan.enable_tls: true" \
	"$TIFERRY_BUILD" -q build --spec "$w/notls.yaml" --out "$w/x.tar"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$w/root.key" -out "$w/root.crt" -days 3650 \
	-subj "/O=Bank/CN=Bank Root" -addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$w/int.key" -out "$w/int.csr" -subj "/O=Bank/CN=Bank TiDB" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n' >"$w/int.ext"
openssl x509 -req -in "$w/int.csr" -CA "$w/root.crt" -CAkey "$w/root.key" -CAcreateserial -days 3000 \
	-extfile "$w/int.ext" -out "$w/int.crt" 2>/dev/null
openssl rsa -in "$w/int.key" -traditional -out "$w/int.key" 2>/dev/null
spec "$w/int.yaml" "  restrict_cn: true" "tls:
  ca: import
  import: {cert: int.crt, key: int.key, chain: root.crt}
  recipients: [rcp/recipient.crt]"
assert_run "build: restrict_cn with an intermediate CA refused" 2 "needs a self-signed CA" \
	"$TIFERRY_BUILD" -q build --spec "$w/int.yaml" --out "$w/x.tar"
assert_true "build: the refusal says why and what to do" \
	grep -q "without partial chains.*Remedy: import the root CA" "$TF_TMP/last.err"
spec "$w/int-plain.yaml" "  stop_duplicate_exporters: false" "tls:
  ca: import
  import: {cert: int.crt, key: int.key, chain: root.crt}
  recipients: [rcp/recipient.crt]"
assert_run "build: the intermediate CA alone (no restrict_cn) still builds" 0 "" \
	"$TIFERRY_BUILD" -q build --spec "$w/int-plain.yaml" --out "$w/int-plain.tar"
spec "$w/spec.yaml" "  restrict_cn: true" "$GEN"
assert_run "build: restrict_cn with a generated CA" 0 "" \
	"$TIFERRY_BUILD" -q build --spec "$w/spec.yaml" --out "$w/b.tar"
"$TIFERRY_BUILD" -q sign --key "$w/keys/approver.key" "$w/b.tar"
assert_run "inspect shows the plan's CNs" 0 "restrict_cn:" "$TIFERRY_BUILD" inspect "$w/b.tar"
CNS='["blackbox_exporter","ops-client","pd","tidb","tikv"]'
assert_eq "the signed list: the components' CNs, blackbox_exporter and the client's" \
	"$("$TIFERRY_BUILD" inspect --json "$w/b.tar" | jq -c '[.. | objects | select(has("restrict_cn")) | .restrict_cn][0] | sort')" "$CNS"
assert_run "the runbook names the edit-config command" 0 \
	"cluster edit-config lab --topology-file" "$TIFERRY" plan "$w/b.tar" --trust "$w/trust"

# ---- TiUP rejects the edit (it exits 0): the step reads meta.yaml back and stops ----
install() { "$TIFERRY" install "$@" --trust "$w/trust" --recipient "$w/rcp" --yes --known-hosts "$LAB_KNOWN_HOSTS"; }
export TIUP_DOUBLE_FAIL=edit-config-reject
assert_run "rejected edit: install stops at restrict-cn" 1 \
	"exited 0 but meta.yaml does not hold the CN options" install "$w/b.tar"
unset TIUP_DOUBLE_FAIL
assert_true "rejected edit: what TiUP said is in the message" grep -q "New topology could not be saved" "$TF_TMP/last.err"
assert_false "rejected edit: TLS not enabled" grep -q "enable_tls: true" "$cdir/meta.yaml"
assert_false "rejected edit: no CN option in meta.yaml" grep -q "cert-allowed-cn" "$cdir/meta.yaml"

# ---- --resume: the options set, then tls enable renders them ----
assert_run "resume: install completes" 0 "installed bundle" install "$w/b.tar" --resume
assert_true "audit: edit-config ran through TiUP" \
	grep -qE '"command":"[^"]*cluster[^"]* edit-config lab --topology-file [^"]*restrict-cn-topology.yaml -y"' \
	"$TIFERRY_STATE_DIR/lab/audit.log"
meta_cns() { python3 -c '
import sys, yaml
sc = yaml.safe_load(open(sys.argv[1]))["topology"]["server_configs"]
print(",".join(sorted(sc[sys.argv[2]][sys.argv[3]])))' "$cdir/meta.yaml" "$1" "$2"; }
assert_eq "meta.yaml: TiKV's cert-allowed-cn" "$(meta_cns tikv security.cert-allowed-cn)" \
	"blackbox_exporter,ops-client,pd,tidb,tikv"
assert_eq "meta.yaml: TiDB's cluster-verify-cn" "$(meta_cns tidb security.cluster-verify-cn)" \
	"blackbox_exporter,ops-client,pd,tidb,tikv"

# ---- the status ports now demand a client certificate with an allowed CN ----
T=$cdir/tls
openssl req -newkey rsa:2048 -nodes -keyout "$w/other.pem" -subj "/CN=someone-else" 2>/dev/null |
	openssl x509 -req -CA "$T/ca.crt" -CAkey "$T/ca.pem" -days 30 -out "$w/other.crt" 2>/dev/null
code() { curl -s -m 5 -o /dev/null -w '%{http_code}' "$@" || true; }
MTLS=(--cacert "$T/ca.crt" --cert "$T/client.crt" --key "$T/client.pem")
OTHER=(--cacert "$T/ca.crt" --cert "$w/other.crt" --key "$w/other.pem")
assert_eq "TiKV status: no client certificate, no session" "$(code --cacert "$T/ca.crt" "https://$kv:20180/status")" 000
assert_eq "TiKV status: the client certificate (ops-client) answers" "$(code "${MTLS[@]}" "https://$kv:20180/region")" 200
assert_eq "TiKV status: another CN gets 403 off /status" "$(code "${OTHER[@]}" "https://$kv:20180/region")" 403
assert_eq "TiDB status: no client certificate, no session" "$(code --cacert "$T/ca.crt" "https://$kv:10080/status")" 000
assert_eq "TiDB status: another CN refused" "$(code "${OTHER[@]}" "https://$kv:10080/status")" 000
assert_eq "TiDB status: the client certificate answers" "$(code "${MTLS[@]}" "https://$kv:10080/status")" 200

# ---- verify: the status ports pass; nothing warns about them ----
assert_run "verify passes" 0 "" "$TIFERRY" verify --cluster lab --json --known-hosts "$LAB_KNOWN_HOSTS"
assert_eq "verify: TiKV/TiDB status ports refuse TLS without a client certificate" \
	"$(jq -r '[.checks[] | select(.id == "auth.client-cert-required" and (.kind == "tikv" or .kind == "tidb")) | .status] | unique | join(",")' "$TF_TMP/last.out")" pass
