#!/usr/bin/env bash
# `make demo`: the whole change told as a story on the lab (tests/lab), from a fresh Debian 12
# machine to a verified TLS cluster. Everything it makes stays under one folder (DEMO_DIR,
# default build/demo); the real /etc/tiferry, /var/lib/tiferry and ~/.tiup are never touched.
#
#   scripts/demo.sh                 set up (packages, build, static installer), then the story
#   DEMO_DIR=DIR                    where everything goes (made afresh on each run; an existing
#                                   folder is removed only when an earlier run made it)
#   DEMO_SETUP=0                    skip the setup chapter (the binaries must exist)
#   BUILD, STATIC_BUILD, JOBS       as in the Makefile
#
# Each chapter's commands and their output go to DEMO_DIR/logs/NN-*.log; the terminal gets one
# or two sentences per chapter, the command, a short result and the time. Exit 0 when every
# chapter did what it should, 1 otherwise (naming the chapter and its log), 130/143 on Ctrl-C or
# TERM; the lab is stopped in every case.
set -euo pipefail
export LC_NUMERIC=C # $EPOCHREALTIME and awk agree on the decimal point

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$SRC"
BUILD=$(realpath -m "${BUILD:-build}")
STATIC_BUILD=$(realpath -m "${STATIC_BUILD:-build-static}")
DEMO=$(realpath -m "${DEMO_DIR:-$BUILD/demo}")
JOBS=${JOBS:-$(nproc)}
TIFERRY=$STATIC_BUILD/installer/tiferry
TIFERRY_BUILD=$BUILD/builder/tiferry-build
LAB=$SRC/tests/lab/lab.sh
STATIC_CACHE=${TF_STATIC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tiferry-static}
CHAPTERS=11

# ---- output -----------------------------------------------------------------------------------

if [[ -t 1 && -z ${NO_COLOR:-} ]]; then
	B=$'\e[1m' D=$'\e[2m' R=$'\e[31m' G=$'\e[32m' N=$'\e[0m'
else
	B='' D='' R='' G='' N=''
fi
STORY=/dev/null # the transcript (DEMO/story.txt) once DEMO exists

# out TEXT...: one line to the terminal and to the transcript (without colour).
out() {
	local line="$*"
	printf '%s\n' "$line"
	printf '%s\n' "$line" | sed 's/\x1b\[[0-9;]*m//g' >>"$STORY"
}
# tell TEXT: the narrative, indented.
tell() { out "      $*"; }
# short PATH...: the text with the demo folder and the source tree left out.
short() { local s="$*"; s=${s//"$DEMO/"/}; s=${s//"$SRC/"/}; printf '%s' "$s"; }
# rel PATH: PATH relative to the source tree when it is inside it, else as it is.
rel() { case $1 in "$SRC"/*) printf '%s' "${1#"$SRC"/}" ;; *) printf '%s' "$1" ;; esac; }
now() { printf '%s' "$EPOCHREALTIME"; }
# secs START [END]: seconds between two now()s, one decimal.
secs() { awk -v a="$1" -v b="${2:-$EPOCHREALTIME}" 'BEGIN { printf "%.1f", b - a }'; }

CH=0 CH_TITLE='' CH_START='' LOG=/dev/null
chapter() { # chapter SLUG TITLE
	CH=$((CH + 1))
	CH_TITLE=$2
	CH_START=$(now)
	LOG=$DEMO/logs/$(printf '%02d' "$CH")-$1.log
	mkdir -p "$DEMO/logs"
	: >"$LOG"
	out ""
	out "${B}[$CH/$CHAPTERS] $2${N}"
}
# result TEXT: the chapter's outcome and its time.
result() {
	out "      ${G}→${N} $* ${D}($(secs "$CH_START") s)${N}"
	CH_TITLE=
}

# run CMD...: shows CMD, runs it (stdin closed) with its output in $TMPD/out and $TMPD/err and
# appended to the chapter's log; returns its exit status.
run() {
	local rc=0
	show "$@"
	"$@" >"$TMPD/out" 2>"$TMPD/err" </dev/null || rc=$?
	{
		printf '$ %s\n' "$*"
		cat "$TMPD/out" "$TMPD/err"
		printf '[exit %d]\n\n' "$rc"
	} >>"$LOG"
	return "$rc"
}
# show CMD...: the command as the reader would type it.
show() {
	local c
	c=$(short "$*")
	out "      ${D}\$${N} ${c#bash }"
}
# stream CMD...: run, showing CMD's output (both streams) as it comes, less install's progress
# lines that say nothing new (a step started, a host running or fine: the log has them all);
# the output is also in $TMPD/out and the chapter's log. Returns CMD's exit status.
stream() {
	local rc
	show "$@"
	printf '$ %s\n' "$*" >>"$LOG"
	: >"$TMPD/out"
	set +e
	"$@" </dev/null 2>&1 | tee -a "$LOG" "$TMPD/out" |
		grep --line-buffered -vE '^step [0-9]+/[0-9]+ [a-z-]+: started$|^host [^ ]+ [a-z-]+: (running|ok)([: ]|$)' |
		while IFS= read -r l; do out "      ${D}$(short "${l#tiferry: }")${N}"; done
	rc=${PIPESTATUS[0]}
	set -e
	printf '[exit %d]\n\n' "$rc" >>"$LOG"
	return "$rc"
}
# must CMD...: run, and the chapter fails unless CMD exits 0.
must() {
	local rc=0
	run "$@" || rc=$?
	[[ $rc -eq 0 ]] || fail "'$(short "$1")' exited $rc"
}
# expect N CMD...: run, and the chapter fails unless CMD exits N.
expect() {
	local want=$1 rc=0
	shift
	run "$@" || rc=$?
	[[ $rc -eq $want ]] || fail "'$(short "$1")' exited $rc, expected $want"
}
# quiet CMD...: a helper step that is logged but not shown.
quiet() {
	local rc=0
	printf '$ %s\n' "$*" >>"$LOG"
	"$@" >>"$LOG" 2>&1 </dev/null || rc=$?
	[[ $rc -eq 0 ]] || fail "'$(short "$1")' exited $rc"
}

# fail WHY: the chapter failed; the EXIT trap stops the lab and says where to look.
FAILED=
fail() {
	FAILED="chapter $CH/$CHAPTERS ($CH_TITLE): $*"
	out "      ${R}✗ $*${N}"
	if [[ -s $LOG ]]; then
		out "      ${D}last lines of $(short "$LOG"):${N}"
		tail -n 15 "$LOG" | while IFS= read -r l; do out "        $l"; done
	fi
	exit 1
}

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tiferry-demo-XXXXXX")
LAB_STARTED=
finish() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ -n $LAB_STARTED ]]; then
		# not reached on success: the last chapter stops the lab itself
		out ""
		out "Stopping the lab ..."
		bash "$LAB" stop "$DEMO/lab" >>"$DEMO/logs/lab-stop.log" 2>&1 ||
			out "${R}the lab did not stop cleanly: see $(short "$DEMO/logs/lab-stop.log") and: tests/lab/lab.sh pids $(short "$DEMO/lab")${N}"
	fi
	rm -rf "$TMPD"
	if [[ $rc -ne 0 ]]; then
		[[ -n $FAILED ]] || FAILED="chapter $CH/$CHAPTERS ($CH_TITLE): exit $rc"
		out ""
		if [[ $rc -eq 130 || $rc -eq 143 ]]; then # interrupted: say so, to the caller too
			out "${R}${B}The demo was interrupted${N}: $FAILED."
			[[ -f $DEMO/.tiferry-demo ]] && echo "interrupted: $FAILED" >"$DEMO/result"
		else
			out "${R}${B}The demo failed${N}: $FAILED."
			[[ -f $DEMO/.tiferry-demo ]] && echo "failed: $FAILED" >"$DEMO/result"
			rc=1
		fi
		[[ $LOG == /dev/null ]] || out "Its log: $LOG"
		exit "$rc"
	fi
	exit 0
}
trap finish EXIT
trap 'FAILED="chapter $CH/$CHAPTERS ($CH_TITLE)"; exit 130' INT
trap 'FAILED="chapter $CH/$CHAPTERS ($CH_TITLE)"; exit 143' TERM

# ---- a fresh demo folder ----------------------------------------------------------------------

# A folder from an earlier run: stop its lab if a killed run left it going, then start afresh.
# Only a folder this script made (it holds .tiferry-demo) is ever removed.
if [[ -e $DEMO ]]; then
	if [[ ! -f $DEMO/.tiferry-demo ]]; then
		FAILED="'$DEMO' exists and was not made by the demo; set DEMO_DIR to another folder"
		exit 2
	fi
	if [[ -f $DEMO/lab/lab.env ]]; then
		bash "$LAB" stop "$DEMO/lab" >/dev/null 2>&1 || true
	fi
	rm -rf "$DEMO"
fi
mkdir -p "$DEMO/logs" "$DEMO/bin" "$DEMO/connected/keys" "$DEMO/control-host"
touch "$DEMO/.tiferry-demo"
STORY=$DEMO/story.txt
: >"$STORY"
T_ALL=$(now)

out "${B}tiferry demo${N}: enabling TLS on an air-gapped TiDB cluster with one signed bundle."
out "The cluster is the lab: real sshd, real etcd as PD, and a TiUP double, on 127.0.0.0/8."
out "Commands run in $(rel "$DEMO")/; 'tiferry' is the static installer ($(rel "$TIFERRY")),"
out "'tiferry-build' the builder ($(rel "$TIFERRY_BUILD"))."

# ---- 1. setup ---------------------------------------------------------------------------------

chapter setup "Setting up this machine"
[[ $(id -u) -eq 0 ]] || fail "run as root: the lab starts sshd and enters mount namespaces"
if [[ ${DEMO_SETUP:-1} == 0 ]]; then
	tell "Skipped (DEMO_SETUP=0): using the binaries already built."
	for b in "$TIFERRY" "$TIFERRY_BUILD"; do
		[[ -x $b ]] || fail "'$(short "$b")' missing: build it first (make build static)"
	done
else
	tell "Debian packages, the build, and the fully static installer, which is what gets carried"
	tell "to an air-gapped host: one file, no shared libraries."
	if ! compgen -G "$STATIC_CACHE/*/.complete" >/dev/null; then
		tell "${B}One-time:${N} the static installer's libraries (OpenSSL, libssh, libarchive, zlib, cJSON,"
		tell "libyaml) are not cached yet. They are built once from Debian's sources with musl into"
		tell "$STATIC_CACHE. This takes about 20 minutes on 2 cores (OpenSSL alone"
		tell "over 10); every later run reuses them."
	fi
	out "      ${D}\$${N} make build static"
	printf '$ %s build static\n' "${MAKE:-make}" >>"$LOG"
	# static-deps.sh's progress (one line per library) is worth seeing during a cold build
	set +e
	"${MAKE:-make}" -C "$SRC" build static BUILD="$BUILD" STATIC_BUILD="$STATIC_BUILD" JOBS="$JOBS" \
		</dev/null 2>&1 | tee -a "$LOG" |
		grep --line-buffered -E '^static-deps: (\[|built|apt-get|download|added)' |
		while IFS= read -r l; do out "        ${D}${l}${N}"; done
	rc=${PIPESTATUS[0]}
	set -e
	[[ $rc -eq 0 ]] || fail "make build static exited $rc"
fi
ln -sf "$TIFERRY" "$DEMO/bin/tiferry"
ln -sf "$TIFERRY_BUILD" "$DEMO/bin/tiferry-build"
if file -L "$TIFERRY" | grep -q 'statically linked'; then
	static_note="statically linked"
else
	static_note="not static?"
fi
T_SETUP=$(secs "$CH_START")
result "tiferry $("$TIFERRY" --version 2>/dev/null | head -1 | awk '{print $NF}') ($static_note, $(($(stat -c %s "$TIFERRY") / 1024 / 1024)) MiB); setup is one-time, timed apart from the demo"

# From here on, the demo proper: nothing reads or writes the machine's own tiferry or TiUP state.
T_DEMO=$(now)
cd "$DEMO"
export PATH=$DEMO/bin:$PATH
export TIFERRY_STATE_DIR=$DEMO/control-host/state
unset TIUP_MIRRORS TIFERRY_NOW TIUP_DOUBLE_FAIL

# ---- 2. the lab -------------------------------------------------------------------------------

chapter lab "Starting the lab cluster"
tell "Six hosts on loopback, each with its own sshd: 3 PD (real etcd), 3 TiKV+TiDB. TiUP v1.7.0 on"
tell "the control host, too old for 'tiup cluster tls'. One host still runs a node_exporter from an"
tell "old deploy that holds port 9100, as on the cluster in the original write-up."
LAB_STARTED=1
must bash "$LAB" start --net auto --dup-node-exporter 22 "$DEMO/lab"
# shellcheck disable=SC1091 # written by lab.sh: TIUP_HOME (inside the lab folder), PATH, LAB_*
source "$DEMO/lab/lab.env"
export PATH=$DEMO/bin:$PATH
read -r -a pd_hosts <<<"$LAB_PD_HOSTS"
quiet tiup cluster display lab
result "cluster 'lab' up on $LAB_NET.x, TiUP $(tiup --version 2>/dev/null | awk 'NR == 1 { print $1 }') (TIUP_HOME=$(short "$TIUP_HOME"))"

# ---- 3. the finding ---------------------------------------------------------------------------

chapter finding "The finding: PD's etcd API answers anyone"
tell "What the bank's vulnerability scanner sees: port 2379 serves etcd's API over plain HTTP,"
tell "without authentication. 'tiferry verify --scan' runs the same probes (exit 1: vulnerable)."
scan=()
for h in "${pd_hosts[@]}"; do scan+=("$h:2379"); done
expect 1 tiferry verify --scan "$(IFS=,; echo "${scan[*]}")"
grep -E '^scan [^ ]+: VULNERABLE$' "$TMPD/out" | while IFS= read -r l; do out "      ${D}${l}${N}"; done
n=$(grep -cE '^scan [^ ]+: VULNERABLE$' "$TMPD/out" || true)
[[ $n -eq ${#pd_hosts[@]} ]] || fail "expected ${#pd_hosts[@]} VULNERABLE endpoints, the scan says $n"
result "$n of ${#pd_hosts[@]} PD endpoints VULNERABLE"

# ---- 4. keys and trust ------------------------------------------------------------------------

chapter keys "Keys and trust, made once"
tell "Each signer makes a key pair; the control host trusts their public halves and a policy:"
tell "one builder and one approver must sign. The control host makes a recipient key: the CA and"
tell "client keys travel encrypted to it."
must tiferry-build keygen --name builder --out connected/keys
must tiferry-build keygen --name approver --out connected/keys
must tiferry keygen --recipient --out control-host/recipient
mkdir -p control-host/trust
cp connected/keys/builder.pub connected/keys/approver.pub control-host/trust/
cp control-host/recipient/recipient.crt connected/
cat >control-host/trust/policy.yaml <<-'YAML'
	keys:
	  - file: builder.pub
	    holder: "Staging host"
	    role: builder
	  - file: approver.pub
	    holder: "Alice, change management"
	    role: approver
	require:
	  builder: 1
	  approver: 1
YAML
out "      ${D}\$${N} cp connected/keys/*.pub control-host/trust/; \$EDITOR control-host/trust/policy.yaml"
result "trust: builder and approver keys, policy requires one signature of each"

# ---- 5. the offline package -------------------------------------------------------------------

chapter package "The TiUP offline package, on the connected side"
tell "Normally the 1-2 GB tidb-community-server package from PingCAP. Here a small one made by an"
tell "independent generator: a signed TiUP mirror with TiUP v1.16.1, its private keys/ included as"
tell "in the real package (tiferry never packs them)."
must python3 "$SRC/tests/mirrorgen/mkmirror.py" connected/offline/mirror --package connected/offline
pkg=$(cd connected && ls offline/tidb-community-server-*.tar.gz)
cp "$TIUP_HOME/storage/cluster/clusters/lab/meta.yaml" connected/meta.yaml
result "$(basename "$pkg") ($(du -k "connected/$pkg" | cut -f1) KiB); the cluster's meta.yaml copied from the control host"

# ---- 6. build ---------------------------------------------------------------------------------

chapter build "Building the bundle on the connected side"
tell "The spec names the cluster, the TiUP upgrade, a new CA and client certificate (keys encrypted"
tell "to the recipient) and the plan. The plan opts in to restrict_cn: TiUP leaves TiKV's and TiDB's"
tell "status ports open to any TLS client; with it they require a client certificate too."
tell "tiferry-build verifies the package as TiUP would, packs a minimal subset and signs the bundle"
tell "as the builder."
cat >connected/change-1.yaml <<-YAML
	cluster: lab
	meta: meta.yaml
	sequence: 1
	validity: {days: 2}
	signing_key: keys/builder.key
	tiup:
	  source: $pkg
	  platforms: [linux/amd64]
	tls:
	  ca: generate
	  recipients: [recipient.crt]
	plan:
	  stop_duplicate_exporters: true
	  restrict_cn: true
YAML
must tiferry-build build --spec connected/change-1.yaml --out change-1.tar
must tiferry-build inspect change-1.tar --json
bundle_id=$(jq -r '.manifest.bundle_id // empty' "$TMPD/out")
nfiles=$(jq -r '.manifest.files | length' "$TMPD/out")
[[ -n $bundle_id ]] || fail "tiferry-build inspect --json names no bundle id"
result "change-1.tar: bundle ${bundle_id:0:12}…, $nfiles files, $(du -k change-1.tar | cut -f1) KiB, signed by the builder"

# ---- 7. approve -------------------------------------------------------------------------------

chapter approve "Change management approves"
tell "The bundle is signed by the builder; change management countersigns as approver. tiferry"
tell "refuses a bundle without both (exit 3), so the approver's review is not optional. The"
tell "approver reads the runbook first: every step and command; its sha256 is in the signed manifest."
expect 3 tiferry check change-1.tar --trust control-host/trust
refusal=$(head -1 "$TMPD/err")
refusal=${refusal#tiferry: }
out "      ${D}refused: ${refusal#error: }${N}"
must tiferry-build inspect change-1.tar --trust control-host/trust
out "      ${D}$(grep -m1 '^valid:' "$TMPD/out" | tr -s ' '), $(grep -m1 '^files:' "$TMPD/out" | tr -s ' ')${N}"
must tiferry-build inspect change-1.tar --runbook --trust control-host/trust
out "      ${D}$(grep -m1 '^# ' "$TMPD/out" | sed 's/^# //'): $(grep -cE '^### [0-9]+\. ' "$TMPD/out") steps, $(awk '/^```sh/ { c = 1; next } /^```/ { c = 0 } c' "$TMPD/out" | wc -l) commands; $(grep -m1 '^Required by the trust policy' "$TMPD/out" | sed 's/^Required by the trust policy: /needs /')${N}"
payload_sum() { tar -xOf change-1.tar --wildcards 'payload/*' | sha256sum | cut -d' ' -f1; }
sum_before=$(payload_sum)
must tiferry-build sign --key connected/keys/approver.key change-1.tar
quiet tiferry-build inspect change-1.tar --trust control-host/trust
sed -n 's/^  [0-9a-f]\{64\}  /signed: /p; s/^policy: */policy: /p' "$LOG" | tail -n 3 |
	while IFS= read -r l; do out "      ${D}${l}${N}"; done
[[ $(payload_sum) == "$sum_before" ]] || fail "signing changed the payload"
result "approved: the approver's signature added in place, the payload byte for byte the same"

# ---- 8. check on the control host, and the runbook ---------------------------------------------

# shorten_table FILE: verify's table with the demo folder left out of targets and details, its
# columns aligned again; lines that are not rows of the table pass through (shortened too).
shorten_table() {
	awk -v pre="$DEMO/" '
	function cut(s,   i, o) {
		o = ""
		while ((i = index(s, pre)) > 0) { o = o substr(s, 1, i - 1); s = substr(s, i + length(pre)) }
		return o s
	}
	function rtrim(s) { sub(/ +$/, "", s); return s }
	!ic && /^STATUS +CHECK +TARGET +DETAIL/ {
		ic = index($0, "CHECK"); it = index($0, "TARGET"); id = index($0, "DETAIL")
		n++; kind[n] = "head"; wc = 5; wt = 6; next
	}
	ic && $1 ~ /^(pass|warn|fail|skip)$/ && length($0) >= id {
		n++; kind[n] = "row"
		st[n] = rtrim(substr($0, 1, ic - 1)); ck[n] = rtrim(substr($0, ic, it - ic))
		tg[n] = cut(rtrim(substr($0, it, id - it))); dt[n] = cut(substr($0, id))
		if (length(ck[n]) > wc) wc = length(ck[n])
		if (length(tg[n]) > wt) wt = length(tg[n])
		next
	}
	{ n++; kind[n] = "line"; ln[n] = cut($0) }
	END {
		f = "%-6s %-" wc "s %-" wt "s %s\n"
		for (i = 1; i <= n; i++) {
			if (kind[i] == "head") printf f, "STATUS", "CHECK", "TARGET", "DETAIL"
			else if (kind[i] == "row") printf f, st[i], ck[i], tg[i], dt[i]
			else print ln[i]
		}
	}' "$1"
}

# ==== THE RUNBOOK: the one place the demo writes it =============================================
# write_runbook BUNDLE: the runbook for the change window, next to the bundle (runbook.html and
# runbook.md in the demo folder); sets RUNBOOK for the summary at the end.
RUNBOOK=
write_runbook() {
	local bundle=$1
	must tiferry plan "$bundle" --trust control-host/trust --format html
	cp "$TMPD/out" runbook.html
	must tiferry plan "$bundle" --trust control-host/trust --format md
	cp "$TMPD/out" runbook.md
	RUNBOOK="runbook.html (and runbook.md)"
	out "      ${D}runbook for the change window: $(rel "$DEMO")/runbook.html, the signed text with both approvals${N}"
}

chapter check "Carried across: the control host checks the bundle"
tell "On the air-gapped host the static tiferry checks everything before it writes anything:"
tell "structure, both signatures against the trust policy, validity, the target cluster's"
tell "topology, the sequence number, every file's sha256. 'tiferry plan' then prints the signed"
tell "runbook with who signed it: the operator's script for the change window."
must tiferry check change-1.tar --trust control-host/trust
verdict=$(cat "$TMPD/err" "$TMPD/out" | grep -m1 'passes every rule' || echo "bundle accepted")
write_runbook change-1.tar
result "${verdict#tiferry: }"

# ---- 9. install -------------------------------------------------------------------------------

chapter install "Installing: TiUP upgrade, mirror back, TLS on"
tell "Journaled and resumable: upgrade TiUP from the bundle's mirror, switch the mirror back,"
tell "place the CA, preflight every host over SSH (stopping the stray exporter), scale PD in to one,"
tell "'tiup cluster tls lab enable', scale PD out again. About a minute."
rc=0
stream tiferry install change-1.tar --trust control-host/trust --recipient control-host/recipient \
	--known-hosts "$LAB_KNOWN_HOSTS" --yes || rc=$?
[[ $rc -eq 0 ]] || fail "tiferry install exited $rc (tiferry status shows where it stopped)"
nsteps=$(grep -cE '^step [0-9]+/[0-9]+ [a-z-]+: (ok|skipped)' "$TMPD/out" || true)
must tiferry status --cluster lab
grep -q '^state: *finished' "$TMPD/out" || fail "tiferry status does not say finished"
result "$nsteps steps done, journal finished; TiUP now $(tiup --version 2>/dev/null | awk 'NR == 1 { print $1 }'), mirror back on $(short "$(tiup mirror show 2>/dev/null)")"

# ---- 10. verify -------------------------------------------------------------------------------

chapter verify "Proving the fix"
tell "'tiferry verify' checks every PD, TiKV and TiDB endpoint and each node's tls/ folder over"
tell "SSH, runs the scanner's probes again, and writes a signed receipt for the change ticket."
vcmd=(tiferry verify --cluster lab --known-hosts "$LAB_KNOWN_HOSTS" --scan "$(IFS=,; echo "${scan[*]}")"
	--receipt receipt.json --bundle-id "$bundle_id")
show "${vcmd[@]}"
# tiferry prints its table on a terminal only; script(1) gives it one, so this is the table an
# operator sees (without colour). The lab's deploy folders are long paths inside the demo folder:
# shown shortened like the commands (the columns aligned again), rows cut at this terminal's
# width; the log has the table as printed.
rc=0
NO_COLOR=1 script -qefc "$(printf '%q ' "${vcmd[@]}")" /dev/null </dev/null >"$TMPD/tty" 2>&1 || rc=$?
tr -d '\r' <"$TMPD/tty" >"$TMPD/out"
{ printf '$ %s\n' "${vcmd[*]}"; cat "$TMPD/out"; printf '[exit %d]\n\n' "$rc"; } >>"$LOG"
width=0
if [[ -t 1 ]]; then width=$(($(tput cols 2>/dev/null || echo 160) - 7)); fi
out ""
cut=
while IFS= read -r l; do
	if [[ $width -gt 20 && ${#l} -gt $width ]]; then l="${l:0:$((width - 1))}…" cut=1; fi
	out "       $l"
done < <(shorten_table "$TMPD/out")
[[ -z $cut ]] || out "       ${D}(rows cut at this terminal's width; whole in $(short "$LOG"))${N}"
out ""
[[ $rc -eq 0 ]] || fail "tiferry verify exited $rc"
[[ $(jq -r '.result' receipt.json) == pass ]] || fail "the receipt does not say pass"
must tiferry-build inspect --receipt receipt.json --key control-host/state/receipt.pub
skips=$(jq -r '.counts.skip' receipt.json)
why=
if [[ $skips -gt 0 && $(jq '[.checks[] | select(.status == "skip" and .id == "pd.api-health")] | length' receipt.json) -eq $skips ]]; then
	why=" (PD's own API: the lab's etcd stand-in does not serve it)"
fi
result "$(jq -r '"PASS: \(.counts.pass) checks pass, \(.counts.fail) fail, \(.counts.skip) skipped"' receipt.json)$why; the receipt checks out on the builder's side"

# ---- 11. stop the lab -------------------------------------------------------------------------

chapter stop "Stopping the lab"
must bash "$LAB" stop "$DEMO/lab"
LAB_STARTED=
result "every lab process stopped"

# ---- summary ----------------------------------------------------------------------------------

d=$(rel "$DEMO")
echo ok >"$DEMO/result"
out ""
out "${B}Done.${N} Demo $(secs "$T_DEMO") s, plus $T_SETUP s of setup ($(secs "$T_ALL") s in all)."
out "  bundle        $d/change-1.tar"
out "  runbook       $d/$RUNBOOK"
out "  receipt       $d/receipt.json (+ .sig; the install's own: $d/control-host/state/lab/receipt-*.json)"
out "  audit log     $d/control-host/state/lab/audit.log"
out "  journal       $d/control-host/state/lab/journal.json"
out "  logs          $d/logs/ (one per chapter), this story in $d/story.txt"
out "Next: the workflow in README.md, then docs/operator-guide.md for the change on a real control host."
