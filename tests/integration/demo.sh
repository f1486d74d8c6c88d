#!/usr/bin/env bash
# make demo (scripts/demo.sh), as make test runs it: the story passes and tells every chapter in
# order, under five minutes; what it says it made is there (a bundle signed twice, a receipt that
# verifies with stock openssl and says pass, a finished journal, a log per chapter); the lab is
# stopped and its address block released; nothing outside the demo folder was written. Then the
# two ways a demo ends early: a chapter that fails (named with its log, exit 1) and a TERM (exit
# 143), both with the lab stopped. The demo's runbook is the signed one, lists every command the
# install ran (audit log), and renders in headless Chromium (issue 8's "Done when").
# TIFERRY_BIN: the static installer (make check-demo sets it).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tf_init demo
TIFERRY=${TIFERRY_BIN:-$TF_SRC/build-static/installer/tiferry}
static_build=${TIFERRY%/installer/tiferry}
LAB=$TF_SRC/tests/lab/lab.sh
NETS=/tmp/tiferry-lab-nets
max=${DEMO_MAX_SECONDS:-300}
labs=()
cleanup_labs() { local l; for l in "${labs[@]}"; do bash "$LAB" stop "$l" >/dev/null 2>&1 || true; done; }
trap 'rc=$?; cleanup_labs; (exit $rc); tf_cleanup' EXIT

# demo DIR [ENV...]: runs the demo into DIR with the binaries already built; TF_RC, DIR.out.
demo() {
	local dir=$1
	shift
	labs+=("$dir/lab")
	TF_RC=0
	env DEMO_DIR="$dir" DEMO_SETUP=0 BUILD="$TF_BUILD" STATIC_BUILD="$static_build" "$@" \
		bash "$TF_SRC/scripts/demo.sh" </dev/null >"$dir.out" 2>&1 || TF_RC=$?
}
# lab_gone DESC LABDIR: no process of that lab runs, and its --net auto block is free again.
lab_gone() {
	assert_eq "$1: no lab process left" "$(bash "$LAB" pids "$2" 2>/dev/null)" ""
	assert_eq "$1: the lab's address block released" \
		"$(grep -lxF "$2" "$NETS"/*/owner 2>/dev/null || true)" ""
}
# outside: what the demo must never write (the machine's own tiferry and TiUP state).
outside() {
	local p
	for p in /etc/tiferry /var/lib/tiferry "$HOME/.tiup"; do
		if [[ -e $p ]]; then tf_snapshot "$p"; else echo "$p absent"; fi
	done
}

# ---- the demo as a new user runs it ----
before=$(outside)
d=$TF_TMP/ok
demo "$d"
sed 's/^/  | /' "$d.out" # the story itself, for whoever reads the test log
assert_eq "demo exits 0" "$TF_RC" 0
assert_eq "demo records its result" "$(cat "$d/result" 2>/dev/null)" ok
for n in $(seq 1 11); do
	assert_true "chapter $n/11 told" grep -q "^\[$n/11\] " "$d.out"
done
assert_eq "chapters in order" "$(grep -oE '^\[[0-9]+/11\]' "$d.out" | tr -d '[]' | cut -d/ -f1 | paste -sd,)" \
	"$(seq -s, 1 11)"
assert_true "the story is kept as story.txt" cmp -s <(sed 's/\x1b\[[0-9;]*m//g' "$d.out") "$d/story.txt"
assert_true "every chapter shows a command" test "$(grep -c '^      \$ ' "$d.out")" -ge 11
assert_eq "a log per chapter" "$(find "$d/logs" -name '[0-9][0-9]-*.log' | wc -l)" 11
assert_true "the finding: PD VULNERABLE before" grep -qE '^      scan [0-9.]+:2379: VULNERABLE' "$d.out"
assert_true "the verify table is shown" grep -qE '^ +STATUS +CHECK +TARGET +DETAIL' "$d.out"
assert_true "the fix: PD FIXED after" grep -qE '^ +scan [0-9.]+:2379: FIXED' "$d.out"
assert_true "the runbook's place is named" grep -qE '^  runbook +[^ ]+/runbook.html' "$d.out"
secs=$(sed -n 's/^Done\. Demo \([0-9.]*\) s.*/\1/p' "$d.out")
assert_true "demo time reported ($secs s)" test -n "$secs"
assert_true "demo under $max s (took ${secs:-?} s)" awk -v s="${secs:-999999}" -v m="$max" 'BEGIN { exit !(s < m) }'

# what it says it made
b=$d/change-1.tar
trust=$d/control-host/trust
assert_run "bundle: both signatures valid, policy met" 0 "needs 1 builder, 1 approver: met" \
	"$TIFERRY_BUILD" inspect "$b" --trust "$trust"
bid=$("$TIFERRY_BUILD" inspect "$b" --json | jq -r .manifest.bundle_id)
r=$d/receipt.json
pub=$d/control-host/state/receipt.pub
assert_true "receipt and signature exist" test -s "$r" -a -s "$r.sig"
assert_true "openssl verifies the receipt" openssl pkeyutl -verify -pubin -inkey "$pub" -rawin \
	-in "$r" -sigfile "$r.sig"
assert_run "tiferry-build inspect --receipt verifies it" 0 "" "$TIFERRY_BUILD" inspect --receipt "$r" --key "$pub"
assert_eq "receipt: result pass" "$(jq -r .result "$r")" pass
assert_eq "receipt: no failed check" "$(jq -r .counts.fail "$r")" 0
assert_eq "receipt: no warning" "$(jq -r .counts.warn "$r")" 0
assert_true "receipt: PD, TiKV, TiDB, node and scan checks" jq -e \
	'[.checks[].kind] | unique | contains(["pd", "tikv", "tidb", "scan"])' "$r"
assert_eq "receipt: every scanned PD FIXED" "$(jq -r '[.scan[].verdict] | unique | join(",")' "$r")" FIXED
assert_eq "receipt: names the bundle" "$(jq -r .bundle_id "$r")" "$bid"
assert_eq "install's own verify report: no failed check" \
	"$(jq -r .counts.fail "$d/control-host/state/lab/verify.json")" 0
assert_run "journal: finished" 0 "finished" env TIFERRY_STATE_DIR="$d/control-host/state" \
	"$TIFERRY" status --cluster lab
assert_true "audit log kept" test -s "$d/control-host/state/lab/audit.log"
assert_eq "sequence 1 recorded" "$(cat "$d/control-host/state/lab/sequence")" 1
# issue 8: the runbook the demo wrote is the bundle's signed one (plus the approvals), lists
# every command the install then ran, and renders in headless Chromium
tar -xOf "$b" payload/runbook/runbook.md >"$TF_TMP/signed-runbook.md"
assert_runbook_shown "runbook.md: the signed text with the approvals inserted" "$TF_TMP/signed-runbook.md" \
	"$d/runbook.md"
assert_true "runbook.html: both approvals, valid" bash -c \
	"grep -c '<td>\(builder\|approver\)</td><td>valid</td>' '$d/runbook.html' | grep -qx 2"
assert_run "the runbook lists every command the install ran (audit log)" 0 "0 not in the runbook" \
	python3 "$TF_SRC/tests/tools/runbook_audit.py" "$d/runbook.md" "$d/control-host/state/lab/audit.log"
for c in "mirror set" "update --self" "cluster scale-in lab" "cluster tls lab enable" \
	"cluster scale-out lab"; do
	# update --self as $TIUP_HOME/bin/tiup; cluster commands by --binpath (issue 12 §2a, §2i)
	assert_true "the install ran 'tiup $c' (audit log)" grep -qE "\"command\":\"([^\" ]*/)?tiup (--binpath [^\" ]+ )?$c" \
		"$d/control-host/state/lab/audit.log"
done
assert_true "the stray exporter's stop is audited with its host" \
	grep -qE '"host":"[0-9.]+:[0-9]+","command":"/usr/bin/sudo -n -H bash -c .systemctl stop ' "$d/control-host/state/lab/audit.log"
assert_renders "runbook.html renders in headless Chromium (screenshot drawn)" "$d/runbook.html" "$d/runbook.png"
lab_gone "after the demo" "$d/lab"
assert_eq "nothing written outside the demo folder" "$(outside)" "$before"

# ---- a chapter that fails: named, with its log; lab stopped; exit 1 ----
# A tiferry that fails every command: the lab starts, then the scan in chapter 3 finds nothing.
fake=$TF_TMP/fake
mkdir -p "$fake/installer"
printf '#!/bin/sh\nexit 1\n' >"$fake/installer/tiferry"
chmod 755 "$fake/installer/tiferry"
f=$TF_TMP/fails
TF_RC=0
labs+=("$f/lab")
env DEMO_DIR="$f" DEMO_SETUP=0 BUILD="$TF_BUILD" STATIC_BUILD="$fake" bash "$TF_SRC/scripts/demo.sh" \
	</dev/null >"$f.out" 2>&1 || TF_RC=$?
assert_eq "failing chapter: exit 1" "$TF_RC" 1
assert_true "failing chapter: named" grep -q "^The demo failed: chapter 3/11 (The finding" "$f.out"
assert_true "failing chapter: its log named" grep -qF "Its log: $f/logs/03-finding.log" "$f.out"
assert_true "failing chapter: the log exists" test -s "$f/logs/03-finding.log"
assert_true "failing chapter: result says failed" grep -q "^failed: chapter 3/11" "$f/result"
assert_false "failing chapter: later chapters not run" grep -q '^\[4/11\]' "$f.out"
lab_gone "failing chapter" "$f/lab"

# ---- TERM while the lab starts: the lab is stopped all the same; exit 143 ----
t=$TF_TMP/term
labs+=("$t/lab")
env DEMO_DIR="$t" DEMO_SETUP=0 BUILD="$TF_BUILD" STATIC_BUILD="$static_build" bash "$TF_SRC/scripts/demo.sh" \
	</dev/null >"$t.out" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
	grep -q '^\[2/11\]' "$t.out" 2>/dev/null && break
	sleep 0.1
done
kill -TERM "$pid"
TF_RC=0
wait "$pid" || TF_RC=$?
assert_eq "TERM: exit 143" "$TF_RC" 143
assert_true "TERM: says so" grep -q "^The demo was interrupted: chapter 2/11 (Starting the lab cluster)" "$t.out"
assert_true "TERM: result says interrupted" grep -q "^interrupted: chapter 2/11" "$t/result"
lab_gone "TERM" "$t/lab"

tf_finish
