#!/usr/bin/env bash
# Builds the static installer's dependencies with musl-gcc from Debian's source packages into a
# prefix cached outside the tree, keyed by every version that matters; prints that prefix last.
#
#   scripts/static-deps.sh            build (or reuse) the prefix; its path is the last line
#   TF_STATIC_CACHE=DIR               cache root (default ${XDG_CACHE_HOME:-~/.cache}/tiferry-static)
#   TF_STATIC_APT_UPDATE=1            run apt-get update even when source indexes exist
#   TF_STATIC_KEEP_SOURCES=1          keep the unpacked sources after a successful build
#   JOBS=N                            parallel jobs (default: all cores)
#
# Progress goes to stderr, each package's full log to <prefix>/logs/. Use it with
#   PKG_CONFIG_LIBDIR=<prefix>/lib/pkgconfig pkg-config --static --libs libssh
set -euo pipefail

# Build order: zlib and OpenSSL first, the libraries that use them after.
pkgs=(zlib openssl cjson libyaml libarchive libssh)
cache_root=${TF_STATIC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tiferry-static}
jobs=${JOBS:-$(nproc)}
self=$(readlink -f "${BASH_SOURCE[0]}")
cc=musl-gcc
# Where OpenSSL looks for openssl.cnf at run time: absent on control hosts on purpose, so a host's
# (possibly much older) configuration never changes the installer's crypto behaviour.
openssldir=/etc/tiferry/ssl

say() { printf 'static-deps: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

command -v "$cc" >/dev/null || die "'$cc' not found (apt-get install musl-tools)"
command -v dpkg-source >/dev/null || die "'dpkg-source' not found (apt-get install dpkg-dev)"

# --- apt: a deb-src entry for bookworm, and its source indexes --------------------------------

sources_files() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && printf '%s\n' "$f"
	done
	return 0
}

# Prints the enabled bookworm "deb" entries (one-line format) or stanzas (deb822), with the type
# given as $1, so they can be copied as deb-src; or, with $1 = check, prints the deb-src ones.
bookworm_entries() {
	local want=$1 f
	while read -r f; do
		case $f in
		*.sources)
			awk -v want="$want" '
			BEGIN { RS = ""; ORS = "\n\n" }
			{
				types = ""; suites = ""; enabled = "yes"
				n = split($0, line, "\n")
				for (i = 1; i <= n; i++) {
					if (line[i] ~ /^Types:/) types = " " substr(line[i], 7) " "
					if (line[i] ~ /^Suites:/) suites = " " substr(line[i], 8) " "
					if (tolower(line[i]) ~ /^enabled:[ \t]*no/) enabled = "no"
				}
				if (enabled == "no" || suites !~ /[ \t]bookworm(-updates|-security)?[ \t]/) next
				if (want == "check") { if (types ~ /[ \t]deb-src[ \t]/) print; next }
				if (types !~ /[ \t]deb[ \t]/) next
				out = ""
				for (i = 1; i <= n; i++)
					out = out (line[i] ~ /^Types:/ ? "Types: deb-src" : line[i]) "\n"
				printf "%s\n", out
			}' "$f"
			;;
		*)
			awk -v want="$want" '
			$1 ~ /^#/ || NF < 3 { next }
			{
				i = 2 # the URI, after any [options]
				if ($2 ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
				if ($(i + 1) !~ /^bookworm(-updates|-security)?$/) next
				if (want == "check") { if ($1 == "deb-src") print; next }
				if ($1 == "deb") { line = $0; sub(/^[ \t]*deb/, "deb-src", line); print line }
			}' "$f"
			;;
		esac
	done < <(sources_files)
}

need_update=${TF_STATIC_APT_UPDATE:-0}
if [ -z "$(bookworm_entries check)" ]; then
	entries=$(bookworm_entries copy)
	[ -n "$entries" ] || die "no enabled Debian bookworm entry in /etc/apt/sources.list{,.d}; cannot add deb-src"
	[ "$(id -u)" -eq 0 ] || die "no deb-src entry for bookworm; run as root once to add it"
	if grep -q '^Types:' <<<"$entries"; then
		dst=/etc/apt/sources.list.d/tiferry-deb-src.sources
	else
		dst=/etc/apt/sources.list.d/tiferry-deb-src.list
	fi
	{ echo "# Added by tiferry's scripts/static-deps.sh: sources for the static installer's dependencies."
	  printf '%s\n' "$entries"; } >"$dst"
	say "added deb-src entries in $dst"
	need_update=1
fi
if ! compgen -G '/var/lib/apt/lists/*_source_Sources*' >/dev/null; then
	need_update=1
fi
dl=$cache_root/sources
mkdir -p "$dl"
apt_update() {
	[ "$(id -u)" -eq 0 ] || die "apt source indexes missing or stale; run 'apt-get update' as root"
	say "apt-get update"
	apt-get update -qq >&2 || die "apt-get update failed"
	rm -f "$dl/unavailable" # fresh indexes: try every version again
}
[ "$need_update" = 1 ] && apt_update


# --- choose and download each source package -------------------------------------------------
# The newest version the mirror can actually serve: a mirror may list a security update in its
# indexes before (or without) carrying its files. Downloads stay in $dl, marked by .ok files;
# versions that failed are remembered in $dl/unavailable until the next apt-get update.

declare -A cands ver
read_candidates() {
	local p v
	cands=()
	while read -r p v; do
		cands[$p]+="$v "
	done < <(apt-cache showsrc --only-source "${pkgs[@]}" 2>/dev/null |
		awk '/^Package:/ { p = $2 } /^Version:/ { print p, $2 }')
}
read_candidates

newest_first() {
	local out=() v i j t
	for v in "$@"; do
		out+=("$v")
		for ((i = ${#out[@]} - 1; i > 0; i--)); do
			j=$((i - 1))
			dpkg --compare-versions "${out[i]}" gt "${out[j]}" || break
			t=${out[i]}; out[i]=${out[j]}; out[j]=$t
		done
	done
	printf '%s\n' "${out[@]}"
}

fetch_source() { # pkg version: downloads into $dl, returns non-zero when the mirror lacks it
	local p=$1 v=$2 tmp
	tmp=$(mktemp -d "$dl/.fetch.XXXXXX")
	if (cd "$tmp" && apt-get source --download-only -qq "$p=$v") >>"$dl/apt.log" 2>&1; then
		mv -f "$tmp"/* "$dl"/
		rmdir "$tmp"
		touch "$dl/${p}_${v#*:}.ok"
		return 0
	fi
	rm -rf "$tmp"
	return 1
}

choose_version() { # pkg: sets ver[pkg] to the newest version downloaded or downloadable
	local p=$1 v
	ver[$p]=
	# shellcheck disable=SC2086 # a list of versions
	while read -r v; do
		case $p:$v in
		openssl:3.0.* | libssh:0.10.*) ;;
		openssl:* | libssh:*) continue ;; # the build options below are for these series
		esac
		if [ -f "$dl/${p}_${v#*:}.ok" ]; then ver[$p]=$v; return 0; fi
		grep -qxF "$p=$v" "$dl/unavailable" 2>/dev/null && continue
		say "download $p $v"
		if fetch_source "$p" "$v"; then ver[$p]=$v; return 0; fi
		say "$p $v: not on the mirror (see $dl/apt.log); trying an older version"
		echo "$p=$v" >>"$dl/unavailable"
	done < <(newest_first ${cands[$p]:-})
	return 1
}

for p in "${pkgs[@]}"; do
	# Stale or missing indexes: refresh once, then insist.
	if ! choose_version "$p" && [ "$need_update" != 1 ]; then
		need_update=1
		apt_update
		read_candidates
		choose_version "$p" || true
	fi
	[ -n "${cands[$p]:-}" ] || die "apt knows no source package '$p' (is the deb-src entry right?)"
	[ -n "${ver[$p]}" ] || die "no downloadable version of '$p' (candidates: ${cands[$p]})"
done

# --- the cache key: sources, toolchain and this script ---------------------------------------

musl_ver=$(dpkg-query -W -f='${Version}' musl-dev 2>/dev/null || echo unknown)
gcc_ver=$("${REALGCC:-x86_64-linux-gnu-gcc}" -dumpfullversion 2>/dev/null || gcc -dumpfullversion)
cmake_ver=$(cmake --version | awk 'NR == 1 { print $3 }')
script_hash=$(sha256sum "$self" | cut -c1-16)
info=$(
	for p in "${pkgs[@]}"; do printf '%s %s\n' "$p" "${ver[$p]}"; done
	printf 'musl %s\ngcc %s\ncmake %s\nscript %s\n' "$musl_ver" "$gcc_ver" "$cmake_ver" "$script_hash"
)
key=$(sha256sum <<<"$info" | cut -c1-16)
prefix=$cache_root/$key
work=$cache_root/$key.work

exec 9>"$cache_root/$key.lock"
flock 9 || die "cannot lock $cache_root/$key.lock"

if [ -f "$prefix/.complete" ]; then
	say "cached: $(for p in "${pkgs[@]}"; do printf '%s %s, ' "$p" "${ver[$p]}"; done)musl $musl_ver"
	printf '%s\n' "$prefix"
	exit 0
fi

# --- build -------------------------------------------------------------------------------------

mkdir -p "$prefix/logs" "$prefix/lib/pkgconfig" "$prefix/include"
printf '%s\n' "$info" >"$prefix/BUILD-INFO"

# musl-gcc sees only musl's headers; some sources include <linux/...> or <asm/...> (OpenSSL's
# getrandom probe, for one). The host's kernel headers are searched last, after musl's.
kinc=$prefix/include-kernel
mkdir -p "$kinc"
multiarch=$("${REALGCC:-x86_64-linux-gnu-gcc}" -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
ln -sfn /usr/include/linux "$kinc/linux"
ln -sfn /usr/include/asm-generic "$kinc/asm-generic"
ln -sfn "/usr/include/$multiarch/asm" "$kinc/asm"

cflags="-O2 -pipe -ffunction-sections -fdata-sections -idirafter$kinc"
# Only our prefix is searched, never the host's (glibc-built) libraries or their .pc files.
unset CFLAGS CPPFLAGS LDFLAGS LIBS PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR CMAKE_PREFIX_PATH
export PKG_CONFIG_LIBDIR=$prefix/lib/pkgconfig
export MAKEFLAGS=-j$jobs

# Common CMake arguments: the musl compiler, static libraries, find_* rooted in $prefix.
cmake_args=(
	-G 'Unix Makefiles'
	-DCMAKE_BUILD_TYPE=Release
	-DCMAKE_C_COMPILER="$cc"
	-DCMAKE_C_FLAGS="$cflags"
	-DCMAKE_C_FLAGS_RELEASE=-DNDEBUG
	-DCMAKE_INSTALL_PREFIX="$prefix"
	-DCMAKE_INSTALL_LIBDIR=lib
	-DBUILD_SHARED_LIBS=OFF
	-DCMAKE_PREFIX_PATH="$prefix"
	-DCMAKE_FIND_ROOT_PATH="$prefix"
	-DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY
	-DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY
	-DCMAKE_FIND_ROOT_PATH_MODE_PACKAGE=ONLY
	-DCMAKE_FIND_ROOT_PATH_MODE_PROGRAM=NEVER
	-DCMAKE_POLICY_DEFAULT_CMP0074=NEW
)

cmake_build() { # srcdir [cmake args...]: configure, build and install
	local src=$1
	shift
	cmake -S "$src" -B "$src/_build" "${cmake_args[@]}" "$@"
	cmake --build "$src/_build" -j "$jobs"
	cmake --install "$src/_build"
}

build_zlib() {
	CC=$cc CFLAGS="$cflags" ./configure --static --prefix="$prefix"
	make libz.a
	make install
}

build_openssl() {
	# ENGINE stays (libssh 0.10 calls it); no-dso also drops loadable engines and providers,
	# which a static binary cannot load anyway. Only the libraries are built and installed.
	# shellcheck disable=SC2086 # cflags are separate words
	CC=$cc ./Configure linux-x86_64 --prefix="$prefix" --libdir=lib --openssldir="$openssldir" \
		no-shared no-tests no-dso no-afalgeng $cflags
	make build_libs
	make install_dev
	if grep -q 'define OPENSSL_NO_ENGINE' "$prefix/include/openssl/configuration.h"; then
		echo "OpenSSL was configured without ENGINE" >&2
		return 1
	fi
}

build_cjson() {
	cmake_build . -DENABLE_CJSON_TEST=OFF -DENABLE_CJSON_UTILS=OFF -DENABLE_TARGET_EXPORT=OFF \
		-DENABLE_CUSTOM_COMPILER_FLAGS=OFF -DBUILD_SHARED_AND_STATIC_LIBS=OFF
}

build_libyaml() {
	cmake_build . -DBUILD_TESTING=OFF -DINSTALL_CMAKE_DIR=lib/cmake/yaml
	# Its CMake build installs no .pc; write the one autotools would.
	# shellcheck disable=SC2016 # ${prefix} is pkg-config's variable
	sed -e "s|@prefix@|$prefix|" -e 's|@exec_prefix@|${prefix}|' \
		-e 's|@includedir@|${prefix}/include|' -e 's|@libdir@|${exec_prefix}/lib|' \
		-e "s|@PACKAGE_VERSION@|$(upstream libyaml)|" yaml-0.1.pc.in >"$prefix/lib/pkgconfig/yaml-0.1.pc"
}

build_libarchive() {
	# Only tar (ustar/pax) and gzip through zlib are used; every other codec, crypto backend,
	# ACL/xattr support and the bsd* programs are off, so nothing else gets linked in. Its
	# CMake build always makes the shared library too, so build and install the static one only.
	cmake -S . -B _build "${cmake_args[@]}" -DENABLE_WERROR=OFF -DENABLE_TEST=OFF \
		-DENABLE_TAR=OFF -DENABLE_CPIO=OFF -DENABLE_CAT=OFF -DENABLE_ZLIB=ON \
		-DENABLE_OPENSSL=OFF -DENABLE_MBEDTLS=OFF -DENABLE_NETTLE=OFF -DENABLE_CNG=OFF \
		-DENABLE_LIBB2=OFF -DENABLE_LZ4=OFF -DENABLE_LZO=OFF -DENABLE_LZMA=OFF -DENABLE_ZSTD=OFF \
		-DENABLE_BZip2=OFF -DENABLE_LIBXML2=OFF -DENABLE_EXPAT=OFF -DENABLE_PCREPOSIX=OFF \
		-DENABLE_LIBGCC=OFF -DPOSIX_REGEX_LIB=NONE -DENABLE_XATTR=OFF -DENABLE_ACL=OFF -DENABLE_ICONV=OFF \
		-DZLIB_LIBRARY="$prefix/lib/libz.a" -DZLIB_INCLUDE_DIR="$prefix/include"
	cmake --build _build -j "$jobs" --target archive_static
	install -m 0644 _build/libarchive/libarchive.a "$prefix/lib/"
	install -m 0644 libarchive/archive.h libarchive/archive_entry.h "$prefix/include/"
	install -m 0644 _build/build/pkgconfig/libarchive.pc "$prefix/lib/pkgconfig/"
}

build_libssh() {
	# A client only: no server, GSSAPI (no static Kerberos exists), pcap, examples or tests.
	cmake_build . -DWITH_GSSAPI=OFF -DWITH_SERVER=OFF -DWITH_PCAP=OFF -DWITH_EXAMPLES=OFF \
		-DWITH_ZLIB=ON -DWITH_NACL=OFF -DWITH_GCRYPT=OFF -DWITH_MBEDTLS=OFF \
		-DWITH_SYMBOL_VERSIONING=OFF -DWITH_DEBUG_CALLTRACE=OFF -DUNIT_TESTING=OFF \
		-DCLIENT_TESTING=OFF -DSERVER_TESTING=OFF -DWITH_BENCHMARKS=OFF \
		-DOPENSSL_ROOT_DIR="$prefix" -DOPENSSL_USE_STATIC_LIBS=ON \
		-DZLIB_LIBRARY="$prefix/lib/libz.a" -DZLIB_INCLUDE_DIR="$prefix/include"
	# Its .pc names no dependencies; a static link needs them.
	grep -q '^Requires.private:' "$prefix/lib/pkgconfig/libssh.pc" ||
		echo 'Requires.private: libcrypto zlib' >>"$prefix/lib/pkgconfig/libssh.pc"
}

upstream() { local v=${ver[$1]#*:}; printf '%s\n' "${v%-*}"; }

total_start=$SECONDS
i=0
for p in "${pkgs[@]}"; do
	i=$((i + 1))
	[ -f "$prefix/.done-$p" ] && continue
	log=$prefix/logs/$p.log
	say "[$i/${#pkgs[@]}] $p ${ver[$p]}"
	start=$SECONDS
	rm -rf "${work:?}/$p"
	mkdir -p "$work/$p"
	# Not in an if: errexit must stay in force inside the build functions.
	set +e
	(
		set -e
		cd "$work/$p"
		dpkg-source -x "$dl/${p}_${ver[$p]#*:}.dsc" src
		cd src
		"build_$p"
	) >"$log" 2>&1
	rc=$?
	set -e
	if [ "$rc" -ne 0 ]; then
		tail -n 25 "$log" >&2
		die "building $p failed; full log: $log"
	fi
	say "[$i/${#pkgs[@]}] $p done in $((SECONDS - start))s"
	echo "$p $((SECONDS - start))s" >>"$prefix/logs/times"
	touch "$prefix/.done-$p"
done

# Every library must resolve through pkg-config, statically, from this prefix alone.
for m in libarchive openssl zlib libcjson yaml-0.1 libssh; do
	pkg-config --exists --print-errors "$m" || die "pkg-config cannot find '$m' in $PKG_CONFIG_LIBDIR"
	pkg-config --static --libs "$m" >/dev/null || die "pkg-config --static --libs $m failed"
done
if find "$prefix/lib" -name '*.so*' | grep -q .; then
	die "a shared library ended up in $prefix/lib"
fi

[ "${TF_STATIC_KEEP_SOURCES:-0}" = 1 ] || rm -rf "$work"
touch "$prefix/.complete"

# Other keys' unpacked sources and unfinished prefixes are dead weight (hundreds of MB);
# finished prefixes stay, another checkout may still use them. Skipped while a run holds them.
for d in "$cache_root"/*; do
	k=$(basename "$d")
	if ! [[ $k =~ ^[0-9a-f]{16}(\.work)?$ ]] || [ ! -d "$d" ]; then continue; fi
	[ "${k%.work}" != "$key" ] || continue
	[ "$k" != "${k%.work}" ] || [ ! -f "$d/.complete" ] || continue
	(flock -n 8 && rm -rf "$d") 8>"$cache_root/${k%.work}.lock" || true
done
say "built in $((SECONDS - total_start))s; logs in $prefix/logs"
printf '%s\n' "$prefix"
