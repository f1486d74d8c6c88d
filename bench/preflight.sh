#!/usr/bin/env bash
# Benchmark (not a test: nothing here asserts timing) of the preflight over SSH, in one run:
#   preflight against 1 host   vs   against 32 hosts in parallel (fan-out 32, and the default 16)
#   preflight against 32 hosts vs   a sequential loop of OpenSSH `ssh` commands doing the same
#                                   checks (one `ssh` per host running reachability, units, df)
# The 32 hosts are 127.0.0.101-132, each with its own sshd (own host key, default crypto) on one
# high port, started here and stopped by pid. Each side runs BENCH_RUNS times (default 3),
# alternately; medians are shown. Goals (issue 6): 32 hosts in under 2x the time of one, and over
# 10x faster than the loop.
#
#   bench/preflight.sh [--update-doc]    (--update-doc rewrites our block in docs/benchmarks.md)
# Environment: TF_BUILD (default <src>/build), BENCH_RUNS (3), BENCH_HOSTS (32), BENCH_TMP (/tmp).
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TF_BUILD=${TF_BUILD:-$SRC/build}
RUNS=${BENCH_RUNS:-3}
NHOSTS=${BENCH_HOSTS:-32}
UPDATE_DOC=0
[[ ${1:-} == --update-doc ]] && UPDATE_DOC=1
((NHOSTS >= 1 && NHOSTS <= 150)) || { echo "bench: BENCH_HOSTS must be 1..150" >&2; exit 2; }
libs=(cluster/libtf_cluster.a manifests/libtf_manifests.a crypto/libtf_crypto.a common/libtf_common.a)
for lib in "${libs[@]}"; do
	[[ -f $TF_BUILD/$lib ]] || { echo "bench: '$TF_BUILD/$lib' missing (build first or set TF_BUILD)" >&2; exit 2; }
done
[[ $(id -u) == 0 && -x /usr/sbin/sshd ]] || { echo "bench: needs root and /usr/sbin/sshd" >&2; exit 2; }

T=$(mktemp -d "${BENCH_TMP:-/tmp}/tf-bench-preflight-XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v v="$1" -v op="$2" -v g="$3" 'BEGIN { ok = op == "<" ? v < g : v > g; print ok ? "met" : "not met" }'; }

# The driver: cluster/preflight over a meta.yaml, linked against the build's libraries.
# shellcheck disable=SC2046
cc -std=c11 -D_GNU_SOURCE -O2 -I"$SRC" "$SRC/bench/preflight_driver.c" -o "$T/driver" \
	-Wl,--start-group "${libs[@]/#/$TF_BUILD/}" -Wl,--end-group \
	$(pkg-config --libs libssh libcjson yaml-0.1 openssl libarchive zlib) -lpthread

ips=()
for ((i = 0; i < NHOSTS; i++)); do
	ips+=("127.0.0.$((101 + i))")
done
# One high port that is free on every address.
port_free() { ! (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
for _ in $(seq 50); do
	port=$((20000 + RANDOM % 30000))
	ok=1
	for ip in "${ips[@]}"; do
		port_free "$ip" "$port" || { ok=0; break; }
	done
	((ok)) && break
done

mkdir -p /run/sshd "$T/bin" "$T/hosts"
ssh-keygen -q -t rsa -b 2048 -m PEM -N '' -f "$T/id_rsa"
cp "$T/id_rsa.pub" "$T/authorized_keys"
# A host's login: its own root, chosen from the address the client connected to.
cat >"$T/hostsh" <<EOF
#!/bin/bash
set -- \$SSH_CONNECTION
cd "$T/hosts/\$3" || exit 255
export PATH=$T/bin:\$PATH
exec /bin/bash -c "\${SSH_ORIGINAL_COMMAND:-true}"
EOF
# systemctl as far as the preflight asks (no unit is live here).
printf '#!/bin/sh\ncase $1 in is-active) echo inactive; exit 3 ;; is-enabled) echo disabled; exit 1 ;; esac\n' >"$T/bin/systemctl"
chmod 755 "$T/hostsh" "$T/bin/systemctl"
: >"$T/known_hosts"
{
	echo "user: root"
	echo "topology:"
	echo "  global:"
	echo "    user: root"
	echo "    ssh_port: $port"
	echo "  tikv_servers:"
} >"$T/meta.yaml"
for ip in "${ips[@]}"; do
	h=$T/hosts/$ip
	mkdir -p "$h/etc/systemd/system" "$h/deploy"
	touch "$h/etc/systemd/system/node_exporter-9100.service"
	ssh-keygen -q -t ed25519 -N '' -f "$h/hostkey"
	cat >"$h/sshd_config" <<EOF
ListenAddress $ip:$port
HostKey $h/hostkey
PidFile none
AuthorizedKeysFile $T/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
MaxStartups 200
ForceCommand $T/hostsh
LogLevel ERROR
# bash skips ~/.bashrc for ssh commands when SHLVL>1 (root's rc may be slow on a test box)
SetEnv SHLVL=1
EOF
	/usr/sbin/sshd -D -f "$h/sshd_config" -E "$h/sshd.log" &
	pids+=($!)
	echo "[$ip]:$port $(cat "$h/hostkey.pub")" >>"$T/known_hosts"
	printf '    - host: %s\n      port: 20160\n      deploy_dir: %s/deploy\n' "$ip" "$h" >>"$T/meta.yaml"
done
for ip in "${ips[@]}"; do
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/$ip/$port") 2>/dev/null && break
		sleep 0.05
	done
done

# The loop an operator would type: one `ssh` per host doing the same checks in one go.
ssh_loop() {
	local ip
	for ip in "${ips[@]}"; do
		ssh -F /dev/null -i "$T/id_rsa" -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=yes \
			-o UserKnownHostsFile="$T/known_hosts" "root@$ip" \
			"true && ls etc/systemd/system | grep node_exporter; df -Pk $T/hosts/$ip/deploy" >/dev/null
	done
}
driver() { "$T/driver" "$T/meta.yaml" "$T/id_rsa" "$T/known_hosts" "$1" etc/systemd/system "$2" | awk '{ print $1 }'; }

# Warm-up (page cache, sshd's first re-exec), untimed.
driver 16 "$NHOSTS" >/dev/null
one=() par=() def=() loop=()
for ((r = 0; r < RUNS; r++)); do
	one+=("$(driver 1 1)")
	par+=("$(driver "$NHOSTS" "$NHOSTS")")
	def+=("$(driver 16 "$NHOSTS")")
	t0=$(now)
	ssh_loop
	loop+=("$(elapsed "$t0" "$(now)")")
done
# CPU the 32-host preflight costs on this machine, all sides: the driver (libssh client) and
# every sshd with what it ran (reaped children count in the listeners' cutime/cstime).
cpu_ticks() {
	local p sum=0 v
	for p in "${pids[@]}"; do
		v=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$p/stat" 2>/dev/null || echo 0)
		sum=$((sum + v))
	done
	echo "$sum"
}
t_before=$(cpu_ticks)
client_cpu=$( { TIMEFORMAT='%U %S'; time driver "$NHOSTS" "$NHOSTS" >/dev/null; } 2>&1 | tail -n 1)
t_after=$(cpu_ticks)
cpu_total=$(awk -v c="$client_cpu" -v d=$((t_after - t_before)) -v hz="$(getconf CLK_TCK)" \
	'BEGIN { split(c, a, " "); printf "%.3f", a[1] + a[2] + d / hz }')
cpu_floor=$(awk -v t="$cpu_total" -v n="$(nproc)" 'BEGIN { printf "%.3f", t / n }')
cpu_client=$(awk -v c="$client_cpu" 'BEGIN { split(c, a, " "); printf "%.3f", a[1] + a[2] }')
cpu_host=$(awk -v t="$cpu_total" -v n="$NHOSTS" 'BEGIN { printf "%.1f", t / n * 1000 }')
m_one=$(median "${one[@]}")
m_par=$(median "${par[@]}")
m_def=$(median "${def[@]}")
m_loop=$(median "${loop[@]}")
r_par=$(ratio "$m_par" "$m_one")
r_def=$(ratio "$m_def" "$m_one")
s_par=$(ratio "$m_loop" "$m_par")
s_def=$(ratio "$m_loop" "$m_def")
cpus=$(nproc)
model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo | awk '{ print $1, $2 }')
load=$(awk '{ print $1 }' /proc/loadavg)

block=$(
	cat <<EOF
<!-- bench/preflight.sh:begin -->
Measured $(date -u +%Y-%m-%dT%H:%MZ) by \`bench/preflight.sh\` on $cpus CPU(s) ($model), load
average $load at the end; $NHOSTS hosts 127.0.0.101-$((100 + NHOSTS)), one OpenSSH $(ssh -V 2>&1 | awk '{ print $1 }' | tr -d ,)
sshd each (ed25519 host key, default settings), libssh $(pkg-config --modversion libssh) with TiUP's RSA
key. Medians of $RUNS alternating runs (all runs: 1 host ${one[*]} s; $NHOSTS hosts fan-out $NHOSTS ${par[*]} s;
fan-out 16 ${def[*]} s; ssh loop ${loop[*]} s). The loop runs one OpenSSH \`ssh\` per host with the
same checks chained (reachability, unit listing, \`df -Pk\`).

| what | time | vs | ratio | goal | verdict |
|---|---|---|---|---|---|
| preflight, 1 host | $m_one s | | | | |
| preflight, $NHOSTS hosts, fan-out $NHOSTS | $m_par s | 1 host | ${r_par}x | < 2x | $(verdict "$r_par" "<" 2) |
| preflight, $NHOSTS hosts, fan-out 16 (default) | $m_def s | 1 host | ${r_def}x | < 2x | $(verdict "$r_def" "<" 2) |
| sequential \`ssh\` loop, $NHOSTS hosts | $m_loop s | fan-out $NHOSTS | ${s_par}x slower | > 10x | $(verdict "$s_par" ">" 10) |
| | | fan-out 16 | ${s_def}x slower | > 10x | $(verdict "$s_def" ">" 10) |
| CPU of the $NHOSTS-host preflight, all sides | $cpu_total s | | ${cpu_host} ms per host | | |
| of which the control host (libssh, threads) | $cpu_client s | | | | |

All $NHOSTS simulated hosts share this machine's $cpus CPU(s) with the control host, so the
$NHOSTS-host run cannot take less than its CPU divided by the CPUs: $cpu_floor s here, against
$m_one s for one host. On real hosts each sshd and each probe runs on its own machine and
only the control host's share is shared.
<!-- bench/preflight.sh:end -->
EOF
)
echo "$block"
if ((UPDATE_DOC)); then
	doc=$SRC/docs/benchmarks.md
	[[ -f $doc ]] || printf '# Benchmarks\n' >"$doc"
	python3 - "$doc" "$block" <<'EOF'
import sys
path, block = sys.argv[1], sys.argv[2]
text = open(path).read()
b, e = "<!-- bench/preflight.sh:begin -->", "<!-- bench/preflight.sh:end -->"
if b in text and e in text:
    text = text[:text.index(b)] + block + text[text.index(e) + len(e):]
else:
    text = text.rstrip("\n") + "\n\n## Preflight over SSH\n\n" + block + "\n"
open(path, "w").write(text)
EOF
	echo "bench: updated $doc"
fi
