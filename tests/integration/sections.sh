#!/usr/bin/env bash
# Bundles with the spec's tiup and tls sections (issues 3 and 4): they pass tiferry check, carry
# no keys/ and no plaintext private key, their mirror subset verifies again after extraction,
# and inspect shows versions, platforms, restore, CA and client fingerprints and the plan.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tf_init sections
w=$TF_TMP/w
mkdir -p "$w"

tf_change_kit "$w"
pkg=$TF_PKG
tf_meta "$w/meta.yaml"
printf 'secret-passphrase-1\n' >"$w/pass"
cat >"$w/spec.yaml" <<YAML
cluster: prod
meta: meta.yaml
sequence: 1
validity: {days: 2}
signing_key: keys/builder.key
tiup:
  source: $pkg
  sha256: $(tf_sha256 "$pkg")
  components: [tiup, cluster, ctl]
  platforms: [linux/amd64]
tls:
  ca: generate
  subject: "/O=Test Bank/OU=DBA/CN=prod TiDB CA"
  recipients: [rcp/recipient.crt]
  passin: file:pass
YAML
assert_run "build with tiup and tls" 0 "" "$TIFERRY_BUILD" build --spec "$w/spec.yaml" --out "$w/b.tar"
"$TIFERRY_BUILD" -q sign --key "$w/keys/approver.key" "$w/b.tar"
assert_run "check passes" 0 "passes every rule" "$TIFERRY" check "$w/b.tar" --trust "$w/trust" \
	--cluster-meta "$w/meta.yaml"

tar -tf "$w/b.tar" >"$w/list"
assert_eq "no keys/ in the bundle" "$(grep -c '/keys/' "$w/list" || true)" 0
assert_eq "no local_install.sh" "$(grep -c 'local_install.sh' "$w/list" || true)" 0
assert_true "only linux/amd64 tarballs" grep -q 'payload/mirror/cluster-v1.16.1-linux-amd64.tar.gz' "$w/list"
assert_eq "no arm64 tarball" "$(grep -c 'arm64' "$w/list" || true)" 0
mkdir "$w/x"
tar -xf "$w/b.tar" -C "$w/x"
plain=$(grep -rl 'PRIVATE KEY' "$w/x" || true)
assert_eq "no plaintext private key in any entry" "$plain" ""
assert_run "the extracted subset verifies again" 0 "" "$TIFERRY_BUILD" mirror verify "$w/x/payload/mirror"
for f in ca.pem client.pem client.pfx; do
	assert_true "$f travels as CMS" test -f "$w/x/payload/tls/$f.cms"
	assert_false "$f not in clear" test -e "$w/x/payload/tls/$f"
done
# the auditor's commands (docs/certificates.md) open the secrets with stock openssl
openssl cms -decrypt -in "$w/x/payload/tls/ca.pem.cms" -inform PEM -recip "$w/rcp/recipient.crt" \
	-inkey "$w/rcp/recipient.key" -out "$w/ca.pem" 2>/dev/null || true
assert_true "openssl opens ca.pem with the recipient key" grep -q 'BEGIN RSA PRIVATE KEY' "$w/ca.pem"
openssl cms -decrypt -in "$w/x/payload/tls/client.pem.cms" -inform PEM \
	-pwri_password "$(cat "$w/pass")" -out "$w/client.pem" 2>/dev/null || true
assert_true "openssl opens client.pem with the passphrase" grep -q 'BEGIN RSA PRIVATE KEY' "$w/client.pem"
assert_true "client.crt verifies against ca.crt" openssl verify -CAfile "$w/x/payload/tls/ca.crt" \
	"$w/x/payload/tls/client.crt"
assert_eq "the CA key matches ca.crt" \
	"$(openssl rsa -in "$w/ca.pem" -noout -modulus 2>/dev/null)" \
	"$(openssl x509 -in "$w/x/payload/tls/ca.crt" -noout -modulus)"

expect_exit 0 "$TIFERRY_BUILD" inspect "$w/b.tar" --json --trust "$w/trust" || true
echo "$TF_OUT" >"$w/inspect.json"
assert_eq "inspect: tiup cluster version" "$(jq -r '.manifest.tiup.versions.cluster' "$w/inspect.json")" v1.16.1
assert_eq "inspect: platforms" "$(jq -r '.manifest.tiup.platforms | join(",")' "$w/inspect.json")" linux/amd64
assert_eq "inspect: restore as recorded" "$(jq -r '.manifest.tiup.restore.mode' "$w/inspect.json")" as-recorded
ca_fp=sha256:$(openssl x509 -in "$w/x/payload/tls/ca.crt" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)
assert_true "inspect: CA fingerprint as openssl computes it" grep -q "$ca_fp" "$w/inspect.json"
assert_true "inspect: CA subject" grep -q 'prod TiDB CA' "$w/inspect.json"
assert_true "inspect: the certificate plan names every PD host" sh -c \
	"jq -r '.. | .host? // empty' '$w/inspect.json' | grep -q ."
expect_exit 0 "$TIFERRY_BUILD" inspect "$w/b.tar" --trust "$w/trust" || true
assert_true "inspect (text) shows the tls section" sh -c "printf '%s' \"\$1\" | grep -q '^tls:'" _ "$TF_OUT"
assert_true "inspect (text) shows the tiup section" sh -c "printf '%s' \"\$1\" | grep -q '^tiup:'" _ "$TF_OUT"

# refusals with clear reasons
sed 's/^  passin: file:pass$//; s/^  recipients: \[rcp\/recipient.crt\]$//' "$w/spec.yaml" >"$w/nokeys.yaml"
assert_run "tls without recipients or passphrase: refused" 2 "keys never travel in clear" \
	"$TIFERRY_BUILD" build --spec "$w/nokeys.yaml" --out "$w/n.tar"
assert_true "a refused spec is named" sh -c 'case $1 in *"$2"*) ;; *) exit 1 ;; esac' _ \
	"$TF_ERR" "build '$w/n.tar' from '$w/nokeys.yaml': spec"
assert_false "refused build leaves no file" test -e "$w/n.tar"
sed "s/^  sha256: .*/  sha256: $(printf '0%.0s' {1..64})/" "$w/spec.yaml" >"$w/badsum.yaml"
assert_run "offline package with another sha256: refused" 1 "sha256" \
	"$TIFERRY_BUILD" build --spec "$w/badsum.yaml" --out "$w/s.tar"
assert_false "no temporary work folder left" sh -c "ls -d \${TMPDIR:-/tmp}/tiferry-build-* 2>/dev/null | grep -q ."

tf_finish
