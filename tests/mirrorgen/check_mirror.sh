#!/usr/bin/env bash
# An independent check of a TiUP-format mirror folder with bash, `openssl` and `jq` only, to
# cross-check mkmirror.py (and tiferry's C verifier) so that no two share one mistake.
#
# usage: check_mirror.sh MIRROR_DIR [ROOT.json]
# Checks: the root's keyids (sha256 of jq's sorted compact key JSON) and self-threshold;
# rotations N+1.root.json by old and new thresholds; timestamp (size, keys, expiry, one meta
# entry), snapshot (sha256 and size from the timestamp), index, component manifests by
# owner keys, every non-yanked tarball's sha256 and length, tiup-<os>-<arch>.tar.gz equal
# to a signed tiup tarball. The signed bytes are cut from the file itself: everything after
# '"signed":' except the final '}' (canonical JSON puts "signed" last).
# Prints one line per problem and exits 1 if there is any, else prints "ok" and exits 0.
set -uo pipefail

dir=${1:?usage: check_mirror.sh MIRROR_DIR [ROOT.json]}
anchor=${2:-$dir/root.json}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
problems=0
now=$(date +%s)

problem() {
	echo "problem: $*"
	problems=$((problems + 1))
}

signed_bytes() { # file -> $work/signed
	local off
	off=$(grep -bo '"signed":' "$1" | head -n1 | cut -d: -f1)
	[ -n "$off" ] || return 1
	tail -c +"$((off + 10))" "$1" | head -c -1 >"$work/signed"
}

# verify_sigs FILE KEYSFILTER THRESHOLD LABEL: KEYSFILTER is a jq path, evaluated on
# $work/keysrc, to an object {keyid: key}
verify_sigs() {
	local file=$1 keys=$2 threshold=$3 label=$4 n i kid sig pem valid=0 dup
	signed_bytes "$file" || {
		problem "$file: no signed value"
		return 1
	}
	dup=$(jq -r '[.signatures[].keyid] | group_by(.) | map(select(length > 1)) | length' "$file")
	[ "$dup" = 0 ] || {
		problem "$file: duplicate keyid"
		return 1
	}
	n=$(jq '.signatures | length' "$file")
	for ((i = 0; i < n; i++)); do
		kid=$(jq -r ".signatures[$i].keyid" "$file")
		pem=$(jq -r --arg k "$kid" "$keys | .[\$k].keyval.public // empty" "$work/keysrc")
		[ -n "$pem" ] || continue
		printf '%s\n' "$pem" >"$work/pub.pem"
		jq -r ".signatures[$i].sig" "$file" | openssl base64 -d -A >"$work/sig.bin"
		if openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:auto \
			-sigopt rsa_mgf1_md:sha256 -verify "$work/pub.pem" \
			-signature "$work/sig.bin" "$work/signed" >/dev/null 2>&1; then
			valid=$((valid + 1))
		else
			problem "$file: bad signature by $label key ${kid:0:16}"
			return 1
		fi
	done
	[ "$valid" -ge "$threshold" ] || {
		problem "$file: $valid valid $label signatures, threshold $threshold"
		return 1
	}
}

check_keyids() { # FILE JQPATH-to-keys-object
	local file=$1 path=$2 kid calc
	for kid in $(jq -r "$path | keys[]" "$file"); do
		calc=$(jq -cjS --arg k "$kid" "$path | .[\$k]" "$file" | openssl dgst -sha256 -r | cut -d' ' -f1)
		[ "$calc" = "$kid" ] || problem "$file: keyid $kid is not the sha256 of its key ($calc)"
	done
}

not_expired() {
	local file=$1 exp
	exp=$(jq -r .signed.expires "$file")
	[ "$(date -d "$exp" +%s)" -ge "$now" ] || problem "$file: expired at $exp"
}

# --- root
cp "$anchor" "$work/root.json"
for role in root index snapshot timestamp; do
	check_keyids "$work/root.json" ".signed.roles.$role.keys"
done
cp "$work/root.json" "$work/keysrc"
verify_sigs "$work/root.json" .signed.roles.root.keys \
	"$(jq .signed.roles.root.threshold "$work/root.json")" root
ver=$(jq .signed.version "$work/root.json")
while [ -f "$dir/$((ver + 1)).root.json" ]; do
	next="$dir/$((ver + 1)).root.json"
	cp "$work/root.json" "$work/keysrc"
	verify_sigs "$next" .signed.roles.root.keys "$(jq .signed.roles.root.threshold "$work/root.json")" "old root" || break
	cp "$next" "$work/keysrc"
	verify_sigs "$next" .signed.roles.root.keys "$(jq .signed.roles.root.threshold "$next")" "new root" || break
	[ "$(jq .signed.version "$next")" = "$((ver + 1))" ] || problem "$next: wrong version"
	cp "$next" "$work/root.json"
	ver=$((ver + 1))
done
not_expired "$work/root.json"
cp "$work/root.json" "$work/keysrc"

# --- timestamp
ts=$dir/timestamp.json
[ "$(stat -c %s "$ts")" -le 1024 ] || problem "$ts: over 1024 bytes"
verify_sigs "$ts" .signed.roles.timestamp.keys "$(jq .signed.roles.timestamp.threshold "$work/root.json")" timestamp
not_expired "$ts"
[ "$(jq '.signed.meta | keys' -c "$ts")" = '["/snapshot.json"]' ] || problem "$ts: meta is not just /snapshot.json"

# --- snapshot
snap=$dir/snapshot.json
want=$(jq -r '.signed.meta["/snapshot.json"].hashes.sha256' "$ts")
got=$(openssl dgst -sha256 -r "$snap" | cut -d' ' -f1)
[ "$want" = "$got" ] || problem "$snap: sha256 $got, timestamp says $want"
[ "$(stat -c %s "$snap")" -le "$(jq '.signed.meta["/snapshot.json"].length' "$ts")" ] || problem "$snap: over the timestamp's length"
verify_sigs "$snap" .signed.roles.snapshot.keys "$(jq .signed.roles.snapshot.threshold "$work/root.json")" snapshot
not_expired "$snap"

# --- index
iv=$(jq '.signed.meta["/index.json"].version' "$snap")
index=$dir/$iv.index.json
verify_sigs "$index" .signed.roles.index.keys "$(jq .signed.roles.index.threshold "$work/root.json")" index
not_expired "$index"
cp "$index" "$work/index.json"

# --- components and tarballs
for comp in $(jq -r '.signed.components | keys[]' "$index"); do
	owner=$(jq -r --arg c "$comp" '.signed.components[$c].owner' "$index")
	cv=$(jq --arg c "$comp" '.signed.meta["/" + $c + ".json"].version' "$snap")
	cf=$dir/$cv.$comp.json
	if [ ! -f "$cf" ]; then
		problem "$cf: absent"
		continue
	fi
	check_keyids "$index" ".signed.owners[\"$owner\"].keys"
	cp "$index" "$work/keysrc"
	verify_sigs "$cf" ".signed.owners[\"$owner\"].keys" \
		"$(jq --arg o "$owner" '.signed.owners[$o].threshold // 1' "$index")" "owner $owner"
	not_expired "$cf"
	jq -r '.signed.platforms | to_entries[] | .value | to_entries[] | .value |
		select(.yanked | not) | "\(.url) \(.hashes.sha256) \(.length)"' "$cf" |
		while read -r url sha len; do
			f=$dir/${url#/}
			if [ ! -f "$f" ]; then
				echo "problem: $f: absent"
				continue
			fi
			[ "$(openssl dgst -sha256 -r "$f" | cut -d' ' -f1)" = "$sha" ] || echo "problem: $f: sha256 differs"
			[ "$(stat -c %s "$f")" = "$len" ] || echo "problem: $f: length differs"
		done >"$work/tarballs"
	if [ -s "$work/tarballs" ]; then
		cat "$work/tarballs"
		problems=$((problems + $(wc -l <"$work/tarballs")))
	fi
done

# --- tiup-<os>-<arch>.tar.gz must be a signed tiup tarball
tv=$(jq '.signed.meta["/tiup.json"].version // empty' "$snap")
for f in "$dir"/tiup-*-*.tar.gz; do
	[ -f "$f" ] || continue
	case $(basename "$f") in tiup-v*) continue ;; esac
	sha=$(openssl dgst -sha256 -r "$f" | cut -d' ' -f1)
	if [ -z "$tv" ] || ! jq -e --arg s "$sha" '[.signed.platforms[][] | select(.hashes.sha256 == $s)] | length > 0' \
		"$dir/$tv.tiup.json" >/dev/null; then
		problem "$f: not a signed tiup tarball"
	fi
done

if [ "$problems" -gt 0 ]; then
	echo "$problems problem(s)"
	exit 1
fi
echo ok
