#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need (when root), or prints the
# exact apt-get line to run and stops. Called by `make`; safe to run again.
set -euo pipefail

pkgs=(
	# build
	build-essential cmake pkg-config clang clang-tidy cppcheck
	libarchive-dev libssl-dev zlib1g-dev libcjson-dev libyaml-dev libssh-dev
	libcmocka-dev libclang-rt-14-dev libfuzzer-14-dev
	# static installer (musl toolchain; sources come with apt-get source)
	musl-tools dpkg-dev
	# tests: the real programs the lab and the integration tests drive
	openssl tar curl jq file python3 openssh-server openssh-client etcd-server etcd-client
	iproute2 procps psmisc
	# tests: the lab logs in as a deploy user with passwordless sudo (useradd, setpriv, sudo)
	sudo util-linux passwd
	# tests: the man pages rendered (man -l, groff) and linted (mandoc -Tlint)
	man-db groff-base mandoc
	# tests: the runbook's HTML rendered in headless Chromium (a screenshot), with a font
	chromium fonts-dejavu-core
)

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "tiferry: missing Debian packages; run as root:" >&2
	echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
	exit 2
fi
echo "tiferry: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# etcd-server's package starts a system etcd on 2379; the tests start their own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q etcd 2>/dev/null; then
	systemctl stop etcd || true
fi
