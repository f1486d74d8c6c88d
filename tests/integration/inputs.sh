#!/usr/bin/env bash
# The install's inputs, checked before anything changes (issue 13 item 8d, issue 18 bugs 4 and
# 5), against the lab: `check --inputs`, `install --dry-run` and `install` name a missing
# recipient key, a wrong one (with the recipient certificate the bundle is sealed to), a missing
# known_hosts and a host not pinned in it (with its SSH port), all at once, exit 2, and the
# install then changes nothing (refused after the verdict and before the yes: TiUP not upgraded,
# no state folder, lock or journal, one audit line); with every input right they pass. A recipient key that goes wrong after the check (swapped while TiUP upgrades)
# fails place-certificates, and a failed step exits 1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tf_init inputs
TIFERRY=${TIFERRY_BIN:-$TIFERRY}
LAB=$TF_SRC/tests/lab/lab.sh
lab=$TF_TMP/lab
cleanup_lab() { bash "$LAB" stop "$lab" >/dev/null 2>&1 || true; }
trap 'rc=$?; cleanup_lab; (exit $rc); tf_cleanup' EXIT

bash "$LAB" start --net auto "$lab" >"$TF_TMP/lab-start.log" 2>&1 || { cat "$TF_TMP/lab-start.log" >&2; exit 1; }
# shellcheck disable=SC1091
source "$lab/lab.env"
export TIFERRY_STATE_DIR=$TF_TMP/state
read -r -a kv_hosts <<<"$LAB_KV_HOSTS"
home0=$TF_TMP/tiup-home-0
cp -a "$TIUP_HOME" "$home0"
orig_mirror=$(tiup mirror show)
w=$TF_TMP/w
mkdir -p "$w"
kh=$LAB_KNOWN_HOSTS

tf_change_kit "$w"
cp "$TIUP_HOME/storage/cluster/clusters/lab/meta.yaml" "$w/meta.yaml"
cat >"$w/spec.yaml" <<-YAML
	cluster: lab
	meta: meta.yaml
	sequence: 1
	validity: {days: 2}
	signing_key: keys/builder.key
	tiup:
	  source: $TF_PKG
	  platforms: [linux/amd64]
	tls:
	  ca: generate
	  recipients: [rcp/recipient.crt]
	plan:
	  stop_duplicate_exporters: false
YAML
"$TIFERRY_BUILD" -q build --spec "$w/spec.yaml" --out "$w/b.tar"
"$TIFERRY_BUILD" -q sign --key "$w/keys/approver.key" "$w/b.tar"
"$TIFERRY" -q keygen --recipient --out "$w/other" >/dev/null
# what CMS names the recipient by: the certificate's issuer (= subject: self-signed) and serial
sealed_serial=$(openssl x509 -in "$w/rcp/recipient.crt" -noout -serial | cut -d= -f2)
other_serial=$(openssl x509 -in "$w/other/recipient.crt" -noout -serial | cut -d= -f2)
other_fp=$(openssl x509 -in "$w/other/recipient.crt" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)

reset_home() { # a fresh control host: TiUP as the lab left it, no tiferry state
	rm -rf "$TIUP_HOME" "$TIFERRY_STATE_DIR"
	cp -a "$home0" "$TIUP_HOME"
}
check() { "$TIFERRY" check "$w/b.tar" --trust "$w/trust" --inputs "$@"; }
dry() { "$TIFERRY" install "$w/b.tar" --trust "$w/trust" --dry-run "$@"; }
install() { "$TIFERRY" install "$w/b.tar" --trust "$w/trust" --yes "$@"; }
changed_nothing() { # DESC SNAPSHOT
	assert_eq "$1: TiUP home untouched" "$(tf_snapshot "$TIUP_HOME")" "$2"
	assert_false "$1: TiUP not upgraded" sh -c 'tiup --version | head -1 | grep -q "^1\.16\.1 "'
	assert_eq "$1: mirror as it was" "$(tiup mirror show)" "$orig_mirror"
	assert_false "$1: nothing to resume" test -e "$TIFERRY_STATE_DIR/lab/journal.json"
	assert_eq "$1: no staging left" "$(find "$TIFERRY_STATE_DIR" -maxdepth 2 -name 'staging-*' 2>/dev/null | wc -l)" 0
	assert_false "$1: no command ran" grep -qs '"event":"command"' "$TIFERRY_STATE_DIR/lab/audit.log"
}
refused_only() { # DESC WHY: a refusal after the verdict, before the yes (issue 13 item 2)
	assert_false "$1: no lock" test -e "$TIFERRY_STATE_DIR/lab/lock"
	assert_false "$1: no journal" test -e "$TIFERRY_STATE_DIR/lab/journal.json"
	assert_false "$1: no state folder for the cluster" test -e "$TIFERRY_STATE_DIR/lab"
	assert_eq "$1: one audit line, refused with exit 2" \
		"$(jq -c 'select(.event == "refused" and .exit_code == 2)' "$TIFERRY_STATE_DIR/audit.log" 2>/dev/null | wc -l)" 1
	assert_true "$1: the audit line says why" grep -qF "$2" "$TIFERRY_STATE_DIR/audit.log"
}

# ---- no recipient key (HOME has no /etc/tiferry/recipient here) ----
reset_home
assert_run "check --inputs: no recipient key, exit 2 naming it" 2 "there is no recipient key" \
	check --known-hosts "$kh"
assert_true "check --inputs: the verdict came first" grep -q "passes every rule" "$TF_TMP/last.err"
assert_run "dry run: no recipient key, exit 2 naming it" 2 "there is no recipient key" \
	dry --known-hosts "$kh"
assert_false "dry run refused: no plan printed" grep -q "nothing was changed.$" "$TF_TMP/last.out"
assert_run "--recipient without --inputs: a usage error" 2 "go with --inputs" \
	"$TIFERRY" check "$w/b.tar" --trust "$w/trust" --recipient "$w/rcp"

# ---- neither a recipient key nor a known_hosts (issue 18 bug 4): both named at once ----
assert_run "dry run: no key, no known_hosts: both named" 2 "2 inputs missing or wrong" \
	dry --known-hosts "$w/absent_known_hosts"
assert_true "dry run: names the missing known_hosts" grep -qF "known_hosts '$w/absent_known_hosts': No such file" "$TF_TMP/last.err"
assert_true "dry run: names the missing recipient key" grep -q "no recipient key" "$TF_TMP/last.err"
assert_eq "dry run: the refusal is one line" "$(wc -l <"$TF_TMP/last.err")" 1

# ---- a wrong recipient key: named with the certificate the bundle is sealed to ----
assert_run "check --inputs: wrong recipient key, exit 2" 2 "sealed to recipient certificate" \
	check --recipient "$w/other" --known-hosts "$kh"
assert_true "check --inputs: names the sealed-to certificate's serial" grep -qF "serial $sealed_serial, not to the recipient key given" "$TF_TMP/last.err"
assert_true "check --inputs: names the given certificate (serial, sha256)" \
	grep -qF "serial $other_serial, sha256:$other_fp)" "$TF_TMP/last.err"
assert_run "dry run: wrong recipient key, exit 2" 2 "serial $sealed_serial" \
	dry --recipient "$w/other" --known-hosts "$kh"
before=$(tf_snapshot "$TIUP_HOME")
assert_run "install: wrong recipient key refused at the check, exit 2" 2 "serial $sealed_serial" \
	install --recipient "$w/other" --known-hosts "$kh"
assert_false "install: refused before any step ran" grep -q "step 'check'" "$TF_TMP/last.err"
changed_nothing "wrong recipient key" "$before"
refused_only "wrong recipient key" "sealed to recipient certificate"
# a passphrase that is not one of the bundle's recipients
printf 'not-the-passphrase\n' >"$w/pass"
assert_run "check --inputs: a passphrase for a bundle sealed to a certificate only" 2 \
	"not encrypted to a passphrase" check --passin "file:$w/pass" --known-hosts "$kh"

# ---- one host not pinned: named with its SSH port ----
grep -vF "[${kv_hosts[0]}]:" "$kh" >"$w/kh.partial"
assert_run "check --inputs: an unpinned host, exit 2" 2 "1 host not pinned in known_hosts" \
	check --recipient "$w/rcp" --known-hosts "$w/kh.partial"
assert_true "check --inputs: the host with its SSH port" grep -qF ": ${kv_hosts[0]}:$LAB_SSH_PORT (pin" "$TF_TMP/last.err"
rm -rf "$TIFERRY_STATE_DIR" # the audit log of the refusal above
before=$(tf_snapshot "$TIUP_HOME")
assert_run "install: an unpinned host refused before TiUP is upgraded" 2 "${kv_hosts[0]}:$LAB_SSH_PORT" \
	install --recipient "$w/rcp" --known-hosts "$w/kh.partial"
changed_nothing "unpinned host" "$before"
refused_only "unpinned host" "${kv_hosts[0]}:$LAB_SSH_PORT"
assert_run "check --inputs --accept-new-host-keys: the unpinned host is for the install to pin" 0 \
	"inputs the install needs are here" check --recipient "$w/rcp" --known-hosts "$w/kh.partial" --accept-new-host-keys

# ---- every input right: passes ----
assert_run "check --inputs: all good" 0 "inputs the install needs are here" \
	check --recipient "$w/rcp" --known-hosts "$kh"
assert_run "dry run: all good" 0 "nothing was changed." dry --recipient "$w/rcp" --known-hosts "$kh"

# ---- the key goes wrong after the check (swapped during the TiUP upgrade): the failed
# place-certificates step exits 1 (issue 18 bug 5; it exited 2) ----
reset_home
cp -a "$w/rcp" "$w/swap"
cat >"$w/tiup-swap" <<-SH
	#!/bin/sh
	# test wrapper: at 'mirror set' (after the check) the recipient folder gets another key
	case "\$*" in "mirror set"*) cp "$w/other/recipient.key" "$w/other/recipient.crt" "$w/swap/" ;; esac
	exec tiup "\$@"
SH
chmod 755 "$w/tiup-swap"
assert_run "key swapped after the check: place-certificates fails, exit 1" 1 "step 'place-certificates'" \
	install --recipient "$w/swap" --known-hosts "$kh" --tiup "$w/tiup-swap" --stop-after place-certificates
assert_true "key swapped: the message names the sealed-to certificate" grep -qF "serial $sealed_serial" "$TF_TMP/last.err"
assert_eq "key swapped: mirror switched back" "$(tiup mirror show)" "$orig_mirror"
assert_run "key swapped: status names the step" 1 "place-certificates" "$TIFERRY" status --cluster lab
# --resume with the right key: the inputs check passes and the step completes
cp "$w/rcp/recipient.key" "$w/rcp/recipient.crt" "$w/swap/"
assert_run "key swapped: --resume with the right key completes the step" 0 "stopped after step 'place-certificates'" \
	install --recipient "$w/swap" --known-hosts "$kh" --resume --stop-after place-certificates
assert_true "resumed: the certificates are placed" test -s "$TIUP_HOME/storage/cluster/clusters/lab/tls/ca.pem"
# past place-certificates, a resume needs no recipient key any more (only what is still to run)
assert_run "resume past place-certificates: no recipient key needed (the hosts still are)" 2 \
	"1 input missing or wrong" install --known-hosts "$w/absent_known_hosts" --resume --stop-after preflight
assert_false "resume past place-certificates: the recipient key is not asked for" grep -q "recipient" "$TF_TMP/last.err"

tf_finish
