#!/usr/bin/env bash
# The scale-out benchmark of taskql (docs/SCALING.md): read throughput with 1, 2, 3 `taskql serve`
# processes on one PostgreSQL, with a streaming replica, through pgbouncer, and in each pgx exec
# mode, on a PostgreSQL cluster of its own (initdb as the postgres user in a temporary directory,
# on its own loopback ports: the shared server on 5432 is never touched), with the CPU share of
# every side. It stops everything it started, by process id, also on Ctrl-C. It needs root.
#
#   bench/scale.sh                                 every config below, shapes page and task
#   bench/scale.sh --configs "1 2 3" --shapes task --duration 10
#
# A config is N[r][b][:MODE]: N processes; r: reads go to a streaming replica
# (--replica-database-url); b: DATABASE_URL is pgbouncer in transaction mode
# (--transaction-pooler, LISTEN direct); MODE: pgx's default_query_exec_mode in DATABASE_URL
# (cache_statement, the default; cache_describe; describe_exec; exec; simple_protocol).
# The wrk load is split evenly over the processes: one wrk per process, the connections shared.
#
# Options: --configs "…" (default "1 2 3 1r 2r 3r 1:exec 1:simple_protocol 1b 3b"), --shapes
# "page task", --duration S (15), --connections N (32, in all), --tasks N (20000),
# --port P (first of the ports used, default 18190).
# Environment: BENCH_DIR, where builds, data, logs and results go (default $TMPDIR/taskql-scale).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work=${BENCH_DIR:-${TMPDIR:-/tmp}/taskql-scale}
configs="1 2 3 1r 2r 3r 1:exec 1:simple_protocol 1b 3b" shapes="page task"
duration=15 connections=32 tasks=20000 port=18190 warmup=3
pgbin=/usr/lib/postgresql/15/bin

say() { printf 'scale: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--configs) configs=$2; shift ;;
	--shapes) shapes=$2; shift ;;
	--duration) duration=$2; shift ;;
	--connections) connections=$2; shift ;;
	--tasks) tasks=$2; shift ;;
	--port) port=$2; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option $1 (see --help)" ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || die "run it as root: initdb, pg_ctl and pgbouncer run as the postgres user"
for tool in go wrk curl psql pgbouncer setpriv "$pgbin/initdb"; do
	command -v "$tool" >/dev/null || die "$tool is missing (Debian: wrk, pgbouncer, postgresql-15)"
done

pg_port=$port replica_port=$((port + 1)) bouncer_port=$((port + 2)) http_port=$((port + 10))
ncpu=$(getconf _NPROCESSORS_ONLN) hz=$(getconf CLK_TCK)
rm -rf "$work/cluster" && mkdir -p "$work/cluster" "$work/logs" && chown postgres "$work/cluster"
cluster=$work/cluster logs=$work/logs
results="$work/results-$(date +%Y%m%d-%H%M%S).tsv"

# --- what we start, stopped on any exit ---------------------------------------------------------
taskql_pids=() wrk_pids=() bouncer_pid=""
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }
cleanup() {
	for pid in "${wrk_pids[@]}" "${taskql_pids[@]}" $bouncer_pid; do kill "$pid" 2>/dev/null || true; done
	for pid in "${wrk_pids[@]}" "${taskql_pids[@]}" $bouncer_pid; do wait "$pid" 2>/dev/null || true; done
	for d in replica primary; do
		[ -f "$cluster/$d/postmaster.pid" ] && as_postgres "$pgbin/pg_ctl" -D "$cluster/$d" -m immediate -w stop >/dev/null 2>&1 || true
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the cluster, its replica, the pooler, the data -----------------------------------------------
cd "$root"
go build -o "$work/taskql" . && go build -o "$work/gen" ./bench/gen
pg_start() { # DIR PORT
	as_postgres "$pgbin/pg_ctl" -D "$cluster/$1" -l "$cluster/$1.log" -w -t 60 \
		-o "-p $2 -k $cluster -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
}
as_postgres "$pgbin/initdb" -D "$cluster/primary" -A trust -U postgres -E UTF8 --locale=C --no-sync >/dev/null
pg_start primary "$pg_port"
pg=postgres://postgres@127.0.0.1:$pg_port
db=taskql_scale
BENCH_PG=$pg/postgres "$work/gen" --db "$db" --out "$work/data" --tasks "$tasks" --fresh >/dev/null
as_postgres "$pgbin/pg_basebackup" -h 127.0.0.1 -p "$pg_port" -U postgres -D "$cluster/replica" -R -X stream -c fast --no-sync
pg_start replica "$replica_port"
cat >"$cluster/pgbouncer.ini" <<EOF
[databases]
* = host=127.0.0.1 port=$pg_port user=postgres connect_query='SET statement_timeout = 5000; SET lock_timeout = 3000'
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
unix_socket_dir =
auth_type = trust
auth_file = $cluster/userlist.txt
pool_mode = transaction
default_pool_size = 20
max_client_conn = 1000
logfile = $cluster/pgbouncer.log
EOF
echo '"postgres" ""' >"$cluster/userlist.txt"
setpriv --reuid=postgres --regid=postgres --init-groups -- pgbouncer "$cluster/pgbouncer.ini" &
bouncer_pid=$!
for _ in $(seq 100); do
	psql "postgres://postgres@127.0.0.1:$bouncer_port/$db" -Atqc 'SELECT 1' >/dev/null 2>&1 && break
	kill -0 "$bouncer_pid" 2>/dev/null || die "pgbouncer exited: see $cluster/pgbouncer.log"
	sleep 0.1
done
postmaster() { head -n 1 "$cluster/$1/postmaster.pid"; }
say "primary pid $(postmaster primary) :$pg_port, replica pid $(postmaster replica) :$replica_port, pgbouncer pid $bouncer_pid :$bouncer_port; $tasks tasks"

# --- measurement ----------------------------------------------------------------------------------
# watch ROLE=PID... lists, in the arrays files and froles, the stat file of each process and, for a
# postmaster, of each of its children (the backends, the WAL sender and receiver, the startup
# process); snapshot prints "role pid ticks" (user + system CPU of all its threads) of each, with
# no fork but one: quick, so that the window it measures is exact.
watch() {
	local arg pid p
	files=() froles=()
	for arg in "$@"; do
		pid=${arg#*=}
		for p in $pid $(ps -o pid= --ppid "$pid" 2>/dev/null); do
			files+=("/proc/$p/stat") froles+=("${arg%%=*} $p")
		done
	done
}
snapshot() {
	local i line
	for ((i = 0; i < ${#files[@]}; i++)); do
		read -r line 2>/dev/null <"${files[$i]}" || continue
		# shellcheck disable=SC2086 # the fields of the stat line after "(comm) "
		set -- ${line##*) }
		echo "${froles[$i]} $((${12} + ${13}))"
	done
}
metric_sum() { # NAME: the series summed over the running processes
	local i sum=0 v
	for ((i = 0; i < ${#taskql_pids[@]}; i++)); do
		v=$(curl -fs "http://127.0.0.1:$((http_port + i))/metrics" | awk -v n="$1" '$1 == n {print $2}')
		sum=$(awk -v a="$sum" -v b="${v:-0}" 'BEGIN {print a + b}')
	done
	echo "$sum"
}

start_servers() { # N REPLICA BOUNCER MODE
	local n=$1 i url=$pg/$db env=()
	[ "$3" = 1 ] && url=postgres://postgres@127.0.0.1:$bouncer_port/$db env+=(TASKQL_TRANSACTION_POOLER=1)
	[ -n "$4" ] && url="$url?default_query_exec_mode=$4"
	[ "$2" = 1 ] && env+=("TASKQL_REPLICA_DATABASE_URL=postgres://postgres@127.0.0.1:$replica_port/$db")
	taskql_pids=()
	for ((i = 0; i < n; i++)); do
		env DATABASE_URL="$url" TASKQL_LISTEN_DATABASE_URL="$pg/$db" "${env[@]}" \
			"$work/taskql" serve --no-demo --addr "127.0.0.1:$((http_port + i))" >"$logs/taskql-$i.log" 2>&1 &
		taskql_pids+=($!)
	done
	for ((i = 0; i < n; i++)); do
		for _ in $(seq 300); do
			curl -fs "http://127.0.0.1:$((http_port + i))/readyz" >/dev/null 2>&1 && break
			sleep 0.1
		done
		curl -fs "http://127.0.0.1:$((http_port + i))/readyz" >/dev/null || die "taskql $i is not ready: see $logs/taskql-$i.log"
		if [ "$2" = 1 ]; then
			for _ in $(seq 100); do
				[ "$(curl -fs "http://127.0.0.1:$((http_port + i))/metrics" | awk '$1 == "taskql_replica_usable" {print $2}')" = 1 ] && break
				sleep 0.1
			done
		fi
	done
}

stop_servers() {
	local pid
	for pid in "${taskql_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${taskql_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	taskql_pids=()
}

# load SHAPE SECONDS TAG: one wrk per process, the connections shared, all at once.
load() {
	local i n=${#taskql_pids[@]}
	wrk_pids=()
	for ((i = 0; i < n; i++)); do
		wrk -t1 -c$((connections / n)) -d"$2s" --timeout 30s -s "$root/bench/wrk/graphql.lua" \
			"http://127.0.0.1:$((http_port + i))/query" -- "$1" "$work/data/$1.txt" >"$logs/wrk-$3-$i.txt" 2>&1 &
		wrk_pids+=($!)
	done
}

# measure CONFIG SHAPE: one line of results.
measure() {
	local config=$1 shape=$2 tag="${1//:/-}-$2" roles=() pid t0 t1 r0 r1 files froles
	load "$shape" "$warmup" "warm-$tag"
	for pid in "${wrk_pids[@]}"; do wait "$pid" || true; done
	load "$shape" "$duration" "$tag"
	sleep 1
	for pid in "${taskql_pids[@]}"; do roles+=("taskql=$pid"); done
	for pid in "${wrk_pids[@]}"; do roles+=("wrk=$pid"); done
	roles+=("primary=$(postmaster primary)" "replica=$(postmaster replica)" "pgbouncer=$bouncer_pid")
	r0=$(metric_sum taskql_replica_reads_total)
	watch "${roles[@]}"
	snapshot >"$logs/ticks-$tag-0"
	t0=$(date +%s.%N)
	sleep $((duration - 3))
	snapshot >"$logs/ticks-$tag-1"
	t1=$(date +%s.%N) r1=$(metric_sum taskql_replica_reads_total)
	for pid in "${wrk_pids[@]}"; do wait "$pid" || true; done
	wrk_pids=()
	cat "$logs"/wrk-"$tag"-*.txt | awk -v c="$config" -v s="$shape" -v t0="$t0" -v t1="$t1" -v r="$((${r1%.*} - ${r0%.*}))" \
		-v ncpu="$ncpu" -v hz="$hz" -v lavg="$(cut -d' ' -f1 /proc/loadavg)" -v f0="$logs/ticks-$tag-0" -v f1="$logs/ticks-$tag-1" '
		/^RESULT/ {rps += $3; p50 += $4; if ($5 > p99) p99 = $5; n++; bad += $7 + $8}
		END {
			while ((getline l < f0) > 0) {split(l, a, " "); before[a[2]] = a[3]}
			while ((getline l < f1) > 0) {split(l, a, " "); if (a[2] in before) d[a[1]] += a[3] - before[a[2]]}
			w = (t1 - t0) * ncpu * hz
			printf "%s\t%s\t%.0f\t%.2f\t%.2f\t%d", c, s, rps, p50 / n / 1000, p99 / 1000, bad
			split("taskql primary replica pgbouncer wrk", roles, " ")
			for (i = 1; i <= 5; i++) { x = d[roles[i]] / w; tot += x; printf "\t%.0f", x * 100 }
			printf "\t%.0f\t%.2f", tot * 100, (rps > 0 ? r / (rps * (t1 - t0)) : 0)
			# CPU milliseconds per request: taskql, PostgreSQL (primary and replica), pgbouncer
			k = rps > 0 ? w / hz * 1000 / ((t1 - t0) * rps) : 0
			printf "\t%.2f\t%.2f\t%.2f\t%s\n", d["taskql"] / w * k, (d["primary"] + d["replica"]) / w * k, d["pgbouncer"] / w * k, lavg
		}' >>"$results"
	say "$(tail -n 1 "$results")"
}

printf 'config\tshape\treq/s\tp50_ms\tp99_ms\tbad\ttaskql%%\tprimary%%\treplica%%\tpgbouncer%%\twrk%%\ttotal%%\treplica_reads/req\ttaskql_ms/req\tpg_ms/req\tpgbouncer_ms/req\tloadavg\n' >"$results"
for config in $configs; do
	spec=${config%%:*} mode=""
	[ "$spec" != "$config" ] && mode=${config#*:}
	n=${spec%%[!0-9]*} rflag=0 bflag=0
	case $spec in *r*) rflag=1 ;; esac
	case $spec in *b*) bflag=1 ;; esac
	[ -n "$n" ] || die "bad config $config"
	start_servers "$n" "$rflag" "$bflag" "$mode"
	for shape in $shapes; do measure "$config" "$shape"; done
	stop_servers
done
echo
echo "taskql scale-out: $tasks tasks; ${duration}s x $connections connections per config; $ncpu CPUs; CPU shares of the machine,"
echo "CPU milliseconds per request, and the machine's load average (other tenants included) at the end of each window"
column -t -s "$(printf '\t')" "$results"
echo "raw: $results; logs: $logs"
