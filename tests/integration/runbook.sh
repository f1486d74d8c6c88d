#!/usr/bin/env bash
# The runbook (issue 8): every bundle carries runbook.md and runbook.html whose sha256 the signed
# manifest holds; `tiferry plan` shows it after the full check with who has signed, and refuses
# a rejected bundle without printing anything; `tiferry-build inspect --runbook` shows it to
# approvers before they sign and refuses one that differs from its hash; the HTML renders in
# headless Chromium (screenshot checked for size and drawn content); --dry-run prints the
# runbook's commands. That the install runs only commands the runbook lists is checked against
# the audit log by enable.sh and demo.sh (tests/tools/runbook_audit.py).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tf_init runbook
w=$TF_TMP/w
tf_change_kit "$w"
tf_meta "$w/meta.yaml"
cat >"$w/spec.yaml" <<YAML
cluster: prod-1
meta: meta.yaml
sequence: 7
validity: {days: 3}
signing_key: keys/builder.key
tiup:
  source: $TF_PKG
  platforms: [linux/amd64]
tls:
  ca: generate
  subject: "/O=Bank & Co/CN=<prod> CA"
  recipients: [rcp/recipient.crt]
plan:
  stop_duplicate_exporters: true
YAML
b=$w/b.tar
assert_run "build" 0 "" "$TIFERRY_BUILD" -q build --spec "$w/spec.yaml" --out "$b"
plan() { "$TIFERRY" plan "$@" --trust "$w/trust" --cluster-meta "$w/meta.yaml"; }

# ---- the runbook is payload, covered by the manifest ----
assert_true "bundle lists runbook.md" sh -c "tar -tf '$b' | grep -qx payload/runbook/runbook.md"
assert_true "bundle lists runbook.html" sh -c "tar -tf '$b' | grep -qx payload/runbook/runbook.html"
tar -xOf "$b" manifest.json >"$w/manifest.json"
for f in md html; do
	tar -xOf "$b" "payload/runbook/runbook.$f" >"$w/runbook.$f"
	assert_eq "manifest holds runbook.$f's sha256" \
		"$(jq -r --arg p "payload/runbook/runbook.$f" '.files[] | select(.path == $p) | .sha256' "$w/manifest.json")" \
		"$(tf_sha256 "$w/runbook.$f")"
done
assert_eq "manifest names the runbook" "$(jq -r .runbook.markdown "$w/manifest.json")" payload/runbook/runbook.md
md=$(cat "$w/runbook.md")
for want in "# Enable TLS on TiDB cluster 'prod-1'" "| Valid until |" "| \`127.0.0.21\` | tikv |" \
	"PD runs as a single member" "restarts the whole cluster" "tiferry status --cluster prod-1" \
	"--resume" "tiferry verify --cluster prod-1" "<!-- tiferry:approvals -->" \
	"tiup mirror set <staging>/mirror" "tiup --binpath \$TIUP_HOME/components/cluster/v1.16.1/tiup-cluster cluster tls prod-1 enable -y" \
	"tiup --binpath \$TIUP_HOME/components/cluster/v1.16.1/tiup-cluster cluster scale-in prod-1 -N <pd-but-leader> -y" \
	"/usr/bin/sudo -n -H bash -c 'systemctl stop <unit> && systemctl disable <unit>'"; do
	assert_true "runbook.md says: $want" grep -qF -- "$want" "$w/runbook.md"
done
assert_true "runbook.md names each PD host" sh -c "grep -c '| \`127.0.0.1[123]\` | pd |' '$w/runbook.md' | grep -qx 3"
assert_false "runbook.html: a certificate subject is not markup" grep -qF "<prod>" "$w/runbook.html"
assert_true "runbook.html: the subject is escaped" grep -qF "&lt;prod" "$w/runbook.html"
assert_eq "runbook names the bundle" "$(grep -c "$(jq -r .bundle_id "$w/manifest.json")" "$w/runbook.md")" 2

# ---- inspect --runbook: before the approver signs ----
assert_run "inspect --runbook, no trust: shown, signatures not checked" 0 "not checked (no --trust)" \
	"$TIFERRY_BUILD" inspect "$b" --runbook
assert_true "inspect --runbook is the signed text plus the signatures" \
	sh -c "'$TIFERRY_BUILD' inspect '$b' --runbook | grep -qF 'PD runs as a single member'"
assert_run "inspect --runbook --trust: the approver is still missing" 0 \
	"role 'approver' needs 1 valid signature" "$TIFERRY_BUILD" inspect "$b" --runbook --trust "$w/trust"
assert_run "plan: refused before the approver signs" 3 "approver" plan "$b"
assert_eq "plan: a refused bundle prints nothing" "$TF_OUT" ""
assert_run "sign as approver" 0 "" "$TIFERRY_BUILD" -q sign --key "$w/keys/approver.key" "$b"
assert_run "inspect --runbook --trust: both valid" 0 "The policy is met." \
	"$TIFERRY_BUILD" inspect "$b" --runbook --trust "$w/trust"
[[ $TF_OUT == *"| Builder | builder | valid |"* && $TF_OUT == *"| Approver | approver | valid |"* ]] &&
	pass "inspect --runbook names both signers" || fail "inspect --runbook signers: $TF_OUT"
assert_run "inspect --format without --runbook: usage" 2 "--runbook" "$TIFERRY_BUILD" inspect "$b" --format md
assert_run "inspect --runbook --format pdf: usage" 2 "'pdf'" "$TIFERRY_BUILD" inspect "$b" --runbook --format pdf

# ---- plan ----
assert_run "plan (md)" 0 "" plan "$b"
plan_md=$TF_OUT
plan "$b" >"$w/plan.md" 2>/dev/null
assert_runbook_shown "plan: the signed text with the approvals inserted, nothing else" "$w/runbook.md" "$w/plan.md"
[[ $plan_md == *"Required by the trust policy: 1 builder, 1 approver. The policy is met."* ]] &&
	pass "plan: the policy is met" || fail "plan: no policy line"
# the trust folder the policy came from, not always /etc/tiferry/trust (issue 18, 6)
[[ $plan_md == *"(Trust folder: \`$w/trust\`.)"* && $plan_md != *'`/etc/tiferry/trust/policy.yaml`'* ]] &&
	pass "plan: names the --trust folder it read" || fail "plan: trust folder not named: $plan_md"
assert_run "plan --format json" 0 "" plan "$b" --format json
j=$TF_OUT
assert_eq "plan json: 20 steps" "$(jq '.steps | length' <<<"$j")" 20
assert_eq "plan json: step names in install order" "$(jq -r '[.steps[].name] | join(",")' <<<"$j")" \
	"check,record-mirror,tiup-preflight,mirror-set,update-self,update-components,restore-mirror,verify-versions,place-certificates,preflight,scale-in-pd,restrict-cn,tls-enable,tighten-keys,repair-peers,scale-out-pd,tighten-keys-pd,health,record-sequence,wipe-staging"
assert_eq "plan json: approvals" "$(jq -r '[.approvals.satisfied, (.approvals.signatures | length)] | join(",")' <<<"$j")" "true,2"
assert_eq "plan json: the tls-enable command" "$(jq -r '.steps[] | select(.name == "tls-enable") | .commands[0]' <<<"$j")" \
	"tiup --binpath \$TIUP_HOME/components/cluster/v1.16.1/tiup-cluster cluster tls prod-1 enable -y"
assert_run "plan --format html" 0 "" plan "$b" --format html
printf '%s\n' "$TF_OUT" >"$w/plan.html"
assert_true "plan html: signers in the page" grep -qF "<td>Approver</td><td>approver</td><td>valid</td>" "$w/plan.html"
assert_run "plan --format pdf: usage" 2 "'pdf'" plan "$b" --format pdf
assert_run "plan: no bundle" 2 "needs one BUNDLE" "$TIFERRY" plan
# the dry run prints the runbook's commands, with this host's paths
assert_run "install --dry-run" 0 "tiup --binpath \$TIUP_HOME/components/cluster/v1.16.1/tiup-cluster cluster tls prod-1 enable -y" env TIFERRY_STATE_DIR="$TF_TMP/st" \
	"$TIFERRY" install "$b" --trust "$w/trust" --cluster-meta "$w/meta.yaml" --dry-run \
	--recipient "$w/rcp" --accept-new-host-keys
[[ $TF_OUT == *"tiup mirror set $TF_TMP/st/prod-1/staging-XXXXXX/mirror"* ]] &&
	pass "dry run: the staging path filled in" || fail "dry run: $TF_OUT"

# ---- a runbook that differs from its hash ----
cp "$b" "$w/tampered.tar"
read -r _ _ off _ < <(tf_tar_offsets "$w/tampered.tar" | grep '^payload/runbook/runbook.md ')
tf_flip "$w/tampered.tar" $((off + 10))
assert_reject "inspect --runbook: a changed runbook is refused" "payload/runbook/runbook.md" \
	"$TIFERRY_BUILD" inspect "$w/tampered.tar" --runbook
assert_reject "plan: a changed runbook is refused" "payload/runbook/runbook.md" plan "$w/tampered.tar"
assert_reject "check: a changed runbook is refused" "payload/runbook/runbook.md" \
	"$TIFERRY" check "$w/tampered.tar" --trust "$w/trust" --cluster-meta "$w/meta.yaml"

# ---- the HTML renders in headless Chromium ----
assert_true "chromium is installed (scripts/deps.sh)" command -v chromium
assert_renders "screenshot: a drawn page, not a blank one" "$w/plan.html" "$w/plan.png"
timeout 120 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$TF_TMP/chromium" \
	--dump-dom "file://$w/plan.html" >"$w/dom.html" 2>/dev/null || true
assert_eq "chromium parsed every step" "$(grep -o '<div class="step" id="step-[a-z-]*">' "$w/dom.html" | wc -l)" 20
assert_true "chromium parsed the commands" grep -qF "tiup --binpath \$TIUP_HOME/components/cluster/v1.16.1/tiup-cluster cluster scale-out prod-1 &lt;state&gt;/scale-out-pd.yaml --user &lt;deploy-user&gt; -i &lt;cluster-key&gt; -y" "$w/dom.html"
tf_finish
