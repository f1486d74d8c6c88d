#!/bin/bash
# The lab: a simulated TiDB cluster on loopback addresses, for tiferry's tests.
#
#   lab.sh start [--hosts N] [--pd N] [--dup-node-exporter HOST[=UNIT]] [--net 127.X.Y|auto]
#                [--tiup-version V] [--prod-versions V1,V2] [--prod-no-servers] [--ssh-port P] DIR
#   lab.sh stop DIR        stop what `start` started, by the pids under DIR
#   lab.sh env DIR         print export lines (TIUP_HOME, PATH with the tiup double first, LAB_*)
#   lab.sh pids DIR        print the pids of the lab's processes that still run
#   lab.sh sshd-stop DIR IP | sshd-start DIR IP    take one host's sshd down / up (faults)
#   lab.sh rekey DIR IP    give a host a new host key (known_hosts now mismatches) and restart its sshd
#   lab.sh sudo-rule DIR IP off|on   remove / restore the deploy user's sudo rule on one host
#
# Hosts are 127.0.0.11.. (PD) and 127.0.0.21.. (TiKV and TiDB); --net picks another 127.X.Y
# block so labs can run side by side, --net auto a free one in 127.0.100-199. Each host has
# its own sshd on port 2222 and its own root DIR/hosts/<ip>/root; see README.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLUSTER=lab
# The deploy user every lab host logs in as (root may not log in), as `tiup cluster deploy`
# leaves it: made by EnvInit (pkg/cluster/module/user.go) with a NOPASSWD sudo rule.
LAB_USER=tidb
TIDB_VERSION=v7.5.1

die() {
	echo "lab: $*" >&2
	exit 1
}

usage() {
	sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# is_lab_pid DIR PID: PID runs, is not a zombie, and its command line names DIR
is_lab_pid() {
	local dir=$1 pid=$2 st args
	{ read -r st <"/proc/$pid/stat"; } 2>/dev/null || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ] || return 1
	{ mapfile -d '' -t args <"/proc/$pid/cmdline"; } 2>/dev/null || return 1
	[[ " ${args[*]} " == *"$dir/"* ]]
}

# lab_pids DIR: every pid the lab recorded under DIR (sshd pid files, the systemctl
# shims' pid files and their log of every process they spawned) that still runs, and
# the children of those processes.
lab_pids() {
	local dir=$1 pid c
	{
		cat "$dir"/hosts/*/sshd.pid "$dir"/hosts/*/root/run/systemd/*.pid 2>/dev/null || true
		cut -d' ' -f1 "$dir"/hosts/*/root/run/systemd/spawned.log 2>/dev/null || true
	} | tr -dc '0-9\n' | sort -un | while read -r pid; do
		[ -n "$pid" ] || continue
		if is_lab_pid "$dir" "$pid"; then
			echo "$pid"
			for c in $(ps -o pid= --ppid "$pid" 2>/dev/null || true); do
				if is_lab_pid "$dir" "$c"; then echo "$c"; fi
			done
		fi
	done | sort -un
}

# claim_net DIR: a free 127.0.N block (N = 100..199) for `--net auto`, claimed for DIR under
# /tmp/tiferry-lab-nets/ until `stop`; a claim whose lab folder is gone or stopped is reused.
NETS=/tmp/tiferry-lab-nets
claim_net() {
	local dir=$1 n c owner tmp
	mkdir -p "$NETS"
	# A claim appears whole, owner included: it is made aside and renamed into place, and a
	# rename onto an existing (never empty) claim fails. A claim without an owner is never
	# mistaken for a stale one by a concurrent `start`.
	tmp=$(mktemp -d "$NETS/.claim.XXXXXX")
	echo "$dir" >"$tmp/owner"
	for n in $(seq 100 199); do
		c=$NETS/127.0.$n
		if [ -d "$c" ]; then
			owner=$(cat "$c/owner" 2>/dev/null || true)
			if [ -z "$owner" ]; then continue; fi
			# taken while its lab folder exists and has not said "stopped" (a lab that is only
			# starting has no state file yet)
			if [ -d "$owner" ] && [ "$(cat "$owner/lab.state" 2>/dev/null || echo starting)" != stopped ]; then continue; fi
			# stale: move it aside atomically so only one claimant wins
			mv "$c" "$c.stale.$$" 2>/dev/null || continue
			rm -rf "$c.stale.$$"
		fi
		if ss -ltn | grep -qF " 127.0.$n."; then continue; fi
		mv -T "$tmp" "$c" 2>/dev/null || continue
		echo "127.0.$n" >"$dir/lab.net"
		echo "127.0.$n"
		return 0
	done
	rm -rf "$tmp"
	die "no free 127.0.N block for --net auto"
}

cmd_pids() {
	local dir
	dir=$(cd "$1" && pwd)
	lab_pids "$dir"
}

cmd_stop() {
	local dir pid pids n=0
	[ -d "$1" ] || die "no lab at '$1'"
	dir=$(cd "$1" && pwd)
	pids=$(lab_pids "$dir")
	for pid in $pids; do
		# each unit's process and sshd lead their own process group; signal the group
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	done
	# a lone etcd leader may spend many seconds trying to hand over leadership: 1 s, then KILL
	for _ in $(seq 10); do
		n=0
		for pid in $pids; do if is_lab_pid "$dir" "$pid"; then n=$((n + 1)); fi; done
		[ "$n" -eq 0 ] && break
		sleep 0.1
	done
	for pid in $pids; do
		if is_lab_pid "$dir" "$pid"; then kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; fi
	done
	for _ in $(seq 30); do
		[ -z "$(lab_pids "$dir")" ] && break
		sleep 0.1
	done
	rm -f "$dir"/hosts/*/sshd.pid "$dir"/hosts/*/root/run/systemd/*.pid "$dir"/hosts/*/root/run/systemd/spawned.log
	[ -z "$(lab_pids "$dir")" ] || die "some lab processes survived: $(lab_pids "$dir" | tr '\n' ' ')"
	echo "stopped" >"$dir/lab.state"
	if [ -f "$dir/lab.net" ] && [ "$(cat "$NETS/$(cat "$dir/lab.net")/owner" 2>/dev/null)" = "$dir" ]; then
		rm -rf "${NETS:?}/$(cat "$dir/lab.net")"
	fi
	echo "lab: stopped $(echo "$pids" | wc -w) processes in $dir"
}

host_dir() { # DIR IP -> DIR/hosts/IP, or die
	local d
	d=$(cd "$1" && pwd)/hosts/$2
	[ -f "$d/sshd_config" ] || die "no lab host $2 in $1"
	echo "$d"
}

cmd_sshd_stop() {
	local hd pid dir
	hd=$(host_dir "$1" "$2")
	dir=$(cd "$1" && pwd)
	pid=$(cat "$hd/sshd.pid" 2>/dev/null || true)
	if [ -n "$pid" ] && is_lab_pid "$dir" "$pid"; then
		kill -TERM "$pid"
		for _ in $(seq 30); do is_lab_pid "$dir" "$pid" || break; sleep 0.1; done
	fi
	rm -f "$hd/sshd.pid"
}

cmd_sshd_start() {
	local hd ip=$2 port
	hd=$(host_dir "$1" "$2")
	[ -f "$hd/sshd.pid" ] && is_lab_pid "$(cd "$1" && pwd)" "$(cat "$hd/sshd.pid")" && return 0
	port=$(sed -n 's/^ListenAddress .*:\([0-9]*\)$/\1/p' "$hd/sshd_config")
	/usr/sbin/sshd -f "$hd/sshd_config" -E "$hd/sshd.log"
	wait_listen "$ip" "$port" 10 || die "sshd on $ip:$port did not start"
}

cmd_rekey() {
	local hd
	hd=$(host_dir "$1" "$2")
	cmd_sshd_stop "$1" "$2"
	rm -f "$hd/ssh_host_ed25519_key" "$hd/ssh_host_ed25519_key.pub"
	ssh-keygen -q -t ed25519 -N '' -C "lab-$2-rekeyed" -f "$hd/ssh_host_ed25519_key"
	cmd_sshd_start "$1" "$2"
}

# ensure_user: the deploy user and its sudo rule, made as TiUP's EnvInit makes them (useradd -m,
# /etc/sudoers.d/<user> "<user> ALL=(ALL) NOPASSWD:ALL"). Machine-wide, so one lab at a time
# makes them; labs running side by side share them and never remove them.
ensure_user() {
	(
		flock 9
		if ! id -u "$LAB_USER" >/dev/null 2>&1; then
			/usr/sbin/groupadd -f "$LAB_USER"
			/usr/sbin/useradd -m -s /bin/bash -g "$LAB_USER" "$LAB_USER"
		fi
		# useradd leaves the password locked ('!'). A host's sshd runs with PAM, which lets a
		# locked account in by public key; the lab's sshd runs without PAM (UsePAM no), and
		# then OpenSSH refuses a locked account ("account is locked"). '*' is no password
		# either, but not a lock: the key logs in, as on a real host.
		case "$(getent shadow "$LAB_USER" | cut -d: -f2)" in
		'!'*) /usr/sbin/usermod -p '*' "$LAB_USER" ;;
		esac
		local rule="$LAB_USER ALL=(ALL) NOPASSWD:ALL"
		if [ "$(cat "/etc/sudoers.d/$LAB_USER" 2>/dev/null)" != "$rule" ]; then
			echo "$rule" >"/etc/sudoers.d/.$LAB_USER.$$"
			chmod 0440 "/etc/sudoers.d/.$LAB_USER.$$"
			mv -f "/etc/sudoers.d/.$LAB_USER.$$" "/etc/sudoers.d/$LAB_USER"
		fi
	) 9>/tmp/tiferry-lab-user.lock
}

# open_path DIR: the deploy user may pass through DIR and every folder above it (search only,
# o+x; nothing is made readable), as it may on a real host reach its deploy folders.
open_path() {
	local d=$1
	while [ "$d" != / ] && [ -n "$d" ]; do
		if ! setpriv --reuid="$LAB_USER" --regid="$(id -g "$LAB_USER")" --init-groups test -x "$d" 2>/dev/null; then
			chmod o+x "$d"
		fi
		d=$(dirname "$d")
	done
}

# host_sudoers HD: the host's /etc/sudoers.d (hostsh mounts it in the host's sessions): the
# deploy user's rule as EnvInit writes it, and the lab's own defaults so that a command run
# through sudo still finds the host's systemctl and ss and knows which host it is on.
host_sudoers() {
	local hd=$1 sd=$1/root/etc/sudoers.d
	mkdir -p "$sd"
	chmod 0755 "$sd"
	echo "$LAB_USER ALL=(ALL) NOPASSWD:ALL" >"$sd/$LAB_USER"
	printf 'Defaults secure_path="%s/shim:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"\nDefaults env_keep += "HOST_ROOT HOST_IP LAB_DIR LAB_HOST_NS"\n' \
		"$(dirname "$(dirname "$hd")")" >"$sd/zz-lab"
	chmod 0440 "$sd/$LAB_USER" "$sd/zz-lab"
}

cmd_sudo_rule() {
	local hd
	hd=$(host_dir "$1" "$2")
	case "$3" in
	off) rm -f "$hd/root/etc/sudoers.d/$LAB_USER" ;;
	on) host_sudoers "$hd" ;;
	*) usage ;;
	esac
}

cmd_env() {
	[ -f "$1/lab.env" ] || die "no lab at '$1' (run: lab.sh start $1)"
	cat "$1/lab.env"
}

# hostsh DIR IP CMD...: run CMD on a lab host locally (same namespace setup as over ssh)
on_host() {
	local dir=$1 ip=$2
	shift 2
	"$HERE/hostsh" "$dir" "$ip" "$@"
}

wait_listen() { # ip port timeout_s
	local i
	for i in $(seq $(($3 * 10))); do
		ss -ltn | grep -qF " $1:$2 " && return 0
		sleep 0.1
	done
	return 1
}

cmd_start() {
	local nkv=3 npd=3 dup="" port=2222 tiup_ver=v1.7.0 prod_versions="" net=127.0.0 dir
	# the production mirror lists pd, tikv and tidb at the cluster's version, as a site's does
	# (tls enable resolves them there: docs/tiup.md §8, checkConfig); --prod-no-servers leaves
	# them out
	local servers="pd:$TIDB_VERSION,tikv:$TIDB_VERSION,tidb:$TIDB_VERSION"
	while [ $# -gt 1 ]; do
		case "$1" in
		--hosts) nkv=$2; shift 2 ;;
		--pd) npd=$2; shift 2 ;;
		--dup-node-exporter) dup=$2; shift 2 ;;
		--ssh-port) port=$2; shift 2 ;;
		--net) net=$2; shift 2 ;;
		--tiup-version) tiup_ver=$2; shift 2 ;;
		--prod-versions) prod_versions=$2; shift 2 ;;
		--prod-no-servers) servers=""; shift ;;
		*) usage ;;
		esac
	done
	[ $# -eq 1 ] || usage
	[ "$npd" -ge 1 ] && [ "$npd" -le 9 ] || die "--pd must be 1..9"
	[ "$nkv" -ge 0 ] && [ "$nkv" -le 200 ] || die "--hosts must be 0..200"
	[[ "$net" =~ ^(127\.[0-9]{1,3}\.[0-9]{1,3}|auto)$ ]] || die "--net must be 127.X.Y (loopback only) or auto"
	prod_versions=${prod_versions:-$tiup_ver}
	case ",$prod_versions," in *",$tiup_ver,"*) ;; *) die "--prod-versions must list --tiup-version $tiup_ver" ;; esac
	mkdir -p "$1"
	dir=$(cd "$1" && pwd)
	case "$dir" in *' '*) die "the lab folder must not contain spaces" ;; esac
	if [ "$net" = auto ]; then
		[ -f "$dir/lab.state" ] || echo starting >"$dir/lab.state" # a claim needs a live owner
		if [ -f "$dir/lab.net" ]; then
			net=$(cat "$dir/lab.net")
			mkdir -p "$NETS/$net" && echo "$dir" >"$NETS/$net/owner"
		else
			net=$(claim_net "$dir") || exit 1
		fi
	fi
	if [ -f "$dir/lab.state" ] && [ "$(cat "$dir/lab.state")" = running ] && [ -n "$(lab_pids "$dir")" ]; then
		die "a lab is already running in $dir"
	fi
	local home=$dir/tiup
	local cdir=$home/storage/cluster/clusters/$CLUSTER
	local key=$cdir/ssh/id_rsa
	local pd_hosts=() kv_hosts=() ip i
	for i in $(seq 1 "$npd"); do pd_hosts+=("$net.$((10 + i))"); done
	for i in $(seq 1 "$nkv"); do kv_hosts+=("$net.$((20 + i))"); done
	local all_hosts=("${pd_hosts[@]}" "${kv_hosts[@]}")
	for ip in "${all_hosts[@]}"; do
		if ss -ltn | grep -qE " $ip:($port|2379|2380|9100) "; then die "$ip has listeners already (another lab?)"; fi
	done

	echo starting >"$dir/lab.state"
	# a start that fails half-way stops whatever it had started
	trap '[ "$(cat "'"$dir"'/lab.state" 2>/dev/null)" = running ] || cmd_stop "'"$dir"'" >&2 || true' EXIT
	ensure_user
	open_path "$dir"
	mkdir -p "$dir/host" "$dir/shim" "$dir/mirrors" "$cdir/ssh"
	ln -sfn "$HERE/systemctl" "$dir/shim/systemctl"
	ln -sfn "$HERE/ss" "$dir/shim/ss"
	# OpenSSH's privilege separation directory; created when missing, never removed.
	mkdir -p /run/sshd
	[ -f "$key" ] || ssh-keygen -q -t rsa -b 2048 -m PEM -N '' -C "tiup-cluster-$CLUSTER" -f "$key"
	: >"$dir/known_hosts"
	# the production mirror's RSA keys take seconds: made while the hosts start
	[ -f "$dir/mirrors/prod/timestamp.json" ] ||
		python3 "$HERE/mkmirror.py" "$dir/mirrors/prod" --versions "$prod_versions" --extra "$servers" --keys "$dir/mirrors/keys" >/dev/null &
	local mirror_pid=$!
	for ip in "${all_hosts[@]}"; do
		local hd=$dir/hosts/$ip
		mkdir -p "$hd/root/etc/systemd/system" "$hd/root/run/systemd"
		chmod 0755 "$hd" "$hd/root" "$hd/root/etc" "$hd/root/etc/systemd" "$hd/root/etc/systemd/system" "$hd/root/run"
		host_sudoers "$hd"
		[ -f "$hd/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C "lab-$ip" -f "$hd/ssh_host_ed25519_key"
		cp "$key.pub" "$hd/authorized_keys" # the deploy user's authorized_keys (EnvInit)
		chmod 0644 "$hd/authorized_keys"
		cat >"$hd/sshd_config" <<-EOF
			# sshd of lab host $ip (written by tests/lab/lab.sh)
			ListenAddress $ip:$port
			HostKey $hd/ssh_host_ed25519_key
			PidFile $hd/sshd.pid
			AuthorizedKeysFile $hd/authorized_keys
			PermitRootLogin no
			PubkeyAuthentication yes
			PasswordAuthentication no
			KbdInteractiveAuthentication no
			UsePAM no
			StrictModes no
			PrintMotd no
			MaxStartups 200:30:400
			MaxSessions 200
			LogLevel ERROR
			Subsystem sftp internal-sftp
			# bash skips ~/.bashrc for ssh commands when SHLVL>1 (root's rc is slow here)
			SetEnv SHLVL=1
			# classic curve25519 first: sntrup761 costs ~0.2 s per connection
			KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,diffie-hellman-group14-sha256
			ForceCommand $HERE/hostsh $dir $ip
		EOF
		/usr/sbin/sshd -f "$hd/sshd_config" -E "$hd/sshd.log"
		echo "[$ip]:$port $(cut -d' ' -f1,2 "$hd/ssh_host_ed25519_key.pub")" >>"$dir/known_hosts"
	done
	for ip in "${all_hosts[@]}"; do
		wait_listen "$ip" "$port" 10 || die "sshd on $ip:$port did not start (see $dir/hosts/$ip/sshd.log)"
	done

	local tiup=(env TIUP_HOME="$home" TIUP_MIRRORS= TIUP_DOUBLE_FAIL= "$home/bin/tiup")
	if [ -f "$cdir/meta.yaml" ]; then
		# a stopped lab: start its hosts and cluster again, as they were
		"${tiup[@]}" cluster start "$CLUSTER" >"$dir/start.log" 2>&1 || { cat "$dir/start.log" >&2; die "start failed"; }
		echo running >"$dir/lab.state"
		echo "lab: restarted in $dir; stop with: $0 stop $dir"
		return 0
	fi

	# The control host: TiUP at $tiup_ver installed from the site's production mirror.
	wait "$mirror_pid" || die "making the production mirror failed"
	mkdir -p "$home/bin"
	# TIUP_DOUBLE_EXE: the path the shim was run by, as os.Executable sees it (update --self)
	printf '#!/bin/sh\n# tiup-double-version: %s\n# tiup-double-package-sha256: lab-bootstrap\nTIUP_DOUBLE_EXE="$0" exec python3 %s "$@"\n' \
		"$tiup_ver" "$HERE/tiup" >"$home/bin/tiup"
	chmod 755 "$home/bin/tiup"
	cat >"$dir/lab.env" <<-EOF
		export LAB_DIR=$dir
		export TIUP_HOME=$home
		export PATH=$home/bin:\$PATH
		export LAB_CLUSTER=$CLUSTER
		export LAB_SSH_KEY=$key
		export LAB_SSH_PORT=$port
		export LAB_KNOWN_HOSTS=$dir/known_hosts
		export LAB_PD_HOSTS="${pd_hosts[*]}"
		export LAB_KV_HOSTS="${kv_hosts[*]}"
		export LAB_NET=$net
		export LAB_PROD_MIRROR=$dir/mirrors/prod
		export LAB_TOOLS=$HERE
		export LAB_USER=$LAB_USER
	EOF
	"${tiup[@]}" mirror set "$dir/mirrors/prod" >/dev/null
	"${tiup[@]}" install "cluster:$tiup_ver" "ctl:$tiup_ver" 2>/dev/null

	# The cluster: deployed and started by the double, as `tiup cluster deploy/start` would.
	{
		echo "global:"
		echo "  user: $LAB_USER"
		echo "  ssh_port: $port"
		echo "  deploy_dir: $dir/host/tidb-deploy"
		echo "  data_dir: $dir/host/tidb-data"
		echo "  arch: amd64"
		echo "  os: linux"
		echo "monitored:"
		echo "  node_exporter_port: 9100"
		echo "  blackbox_exporter_port: 9115"
		echo "pd_servers:"
		for ip in "${pd_hosts[@]}"; do echo "  - host: $ip"; done
		echo "tikv_servers:"
		for ip in "${kv_hosts[@]}"; do echo "  - host: $ip"; done
		echo "tidb_servers:"
		for ip in "${kv_hosts[@]}"; do echo "  - host: $ip"; done
	} >"$dir/topology.yaml"
	"${tiup[@]}" cluster deploy "$CLUSTER" "$TIDB_VERSION" "$dir/topology.yaml" --user "$LAB_USER" -y >"$dir/deploy.log" 2>&1 ||
		{ cat "$dir/deploy.log" >&2; die "deploy failed"; }
	if [ -n "$dup" ]; then
		local dhost=${dup%%=*} dunit=node_exporter-9100-dup.service
		[ "$dhost" != "$dup" ] && dunit=${dup#*=}
		[[ "$dhost" == *.* ]] || dhost=$net.$dhost # the last octet alone, for --net auto
		local ddir=$dir/host/old-deploy/monitor-9100
		mkdir -p "$dir/hosts/$dhost/root/old-deploy/monitor-9100/scripts" "$dir/hosts/$dhost/root/old-deploy/monitor-9100/log" ||
			die "no lab host $dhost"
		printf '#!/bin/bash\n# a node_exporter left behind by an earlier deployment (planted by lab.sh)\nexec python3 %s node_exporter %s 9100 --dir %s >> %s/log/node_exporter.log 2>&1\n' \
			"$HERE/listen.py" "$dhost" "$ddir" "$ddir" >"$dir/hosts/$dhost/root/old-deploy/monitor-9100/scripts/run_node_exporter.sh"
		chmod 755 "$dir/hosts/$dhost/root/old-deploy/monitor-9100/scripts/run_node_exporter.sh"
		printf '[Unit]\nDescription=node_exporter service\n\n[Service]\nExecStart=/bin/bash -c %s/scripts/run_node_exporter.sh\nRestart=always\n\n[Install]\nWantedBy=multi-user.target\n' \
			"$ddir" >"$dir/hosts/$dhost/root/etc/systemd/system/$dunit"
		on_host "$dir" "$dhost" systemctl enable --now "$dunit" 2>/dev/null
		wait_listen "$dhost" 9100 10 || die "duplicate node_exporter on $dhost did not start"
	fi
	"${tiup[@]}" cluster start "$CLUSTER" >"$dir/start.log" 2>&1 || { cat "$dir/start.log" >&2; die "start failed"; }
	echo running >"$dir/lab.state"
	echo "lab: running in $dir (PD ${pd_hosts[*]}; TiKV/TiDB ${kv_hosts[*]}); stop with: $0 stop $dir"
}

[ $# -ge 1 ] || usage
verb=$1
shift
case "$verb" in
start) cmd_start "$@" ;;
stop) [ $# -eq 1 ] || usage; cmd_stop "$1" ;;
env) [ $# -eq 1 ] || usage; cmd_env "$1" ;;
pids) [ $# -eq 1 ] || usage; cmd_pids "$1" ;;
sshd-stop) [ $# -eq 2 ] || usage; cmd_sshd_stop "$1" "$2" ;;
sshd-start) [ $# -eq 2 ] || usage; cmd_sshd_start "$1" "$2" ;;
rekey) [ $# -eq 2 ] || usage; cmd_rekey "$1" "$2" ;;
sudo-rule) [ $# -eq 3 ] || usage; cmd_sudo_rule "$1" "$2" "$3" ;;
*) usage ;;
esac
