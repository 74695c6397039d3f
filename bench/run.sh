#!/usr/bin/env bash
# The load benchmark of taskql (docs/PERFORMANCE.md): builds the world, starts the server, and for
# each shape (page, task, assign) runs wrk against the server, then pgbench with the SQL an ideal
# server would run, and prints req/s, p50, p99, the ratios ours/pgbench and the server's RSS.
# It stops everything it started, also on Ctrl-C.
#
#   bench/run.sh                      the full benchmark: 100,000 tasks, 20 s per load, 1 run
#   bench/run.sh --runs 3             three runs; the table shows the median of each figure
#   bench/run.sh --quick              a smoke run: 5,000 tasks, 5 s per load
#   bench/run.sh --profile            also take CPU profiles of the server under each load
#
# Options: --duration S, --connections N, --threads N, --runs N, --shapes "page task assign",
# --tasks N (and --orgs, --users, --projects, --members, --phases, --pairs: passed to bench/gen),
# --fresh (rebuild the database), --server real|bench (real: `go build .`, the default; bench:
# bench/server, the same handler with pprof; --profile implies bench), --port P,
# --max-inflight N (the server executes at most N GraphQL requests at once; 0: no limit;
# default: the server's own, 4 x GOMAXPROCS).
# Environment: BENCH_PG, the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres);
# BENCH_DIR, where builds, id files, logs and results go (default $TMPDIR/taskql-bench).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
pg=${BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres}
work=${BENCH_DIR:-${TMPDIR:-/tmp}/taskql-bench}
duration=20 connections=32 threads=2 runs=1 port=18090 warmup=3
shapes="page task assign" server=real profile=0 fresh=0 max_inflight=""
gen_args=() tasks=100000

while [ $# -gt 0 ]; do
	case $1 in
	--duration) duration=$2; shift ;;
	--connections) connections=$2; shift ;;
	--threads) threads=$2; shift ;;
	--runs) runs=$2; shift ;;
	--shapes) shapes=$2; shift ;;
	--port) port=$2; shift ;;
	--server) server=$2; shift ;;
	--profile) profile=1; server=bench ;;
	--max-inflight) max_inflight=$2; shift ;;
	--fresh) fresh=1 ;;
	--quick) tasks=5000 duration=5 warmup=1 ;;
	--tasks) tasks=$2; shift ;;
	--orgs | --users | --projects | --members | --phases | --pairs) gen_args+=("$1" "$2"); shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

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
psql "$pg" -Atqc 'SELECT 1' >/dev/null 2>&1 || die "PostgreSQL is not reachable at $pg (set BENCH_PG)"

# --- processes we start, stopped on any exit -------------------------------------------------------
server_pid="" sampler_pid="" wrk_pid="" pgbench_pid="" profile_pid=""
cleanup() {
	local pids="$wrk_pid $pgbench_pid $profile_pid $sampler_pid $server_pid"
	for pid in $pids; do
		kill "$pid" 2>/dev/null || true
	done
	# wrk and pgbench run under a subshell that times them: stop the tools themselves too.
	for pid in $pids; do
		pkill -P "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work"
db="taskql_bench_${tasks}"
data="$work/data-$db"
logs="$work/logs"
mkdir -p "$logs"

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

# --- data ----------------------------------------------------------------------------------------
fresh_arg=()
[ $fresh = 1 ] && fresh_arg=(--fresh)
BENCH_PG=$pg "$work/gen" --db "$db" --out "$data" --tasks "$tasks" "${gen_args[@]}" "${fresh_arg[@]}"
# shellcheck disable=SC1091
. "$data/env.sh"
db_url=$(printf '%s' "$pg" | sed -E "s#/[^/?]*(\?|$)#/$db\1#")

# --- server --------------------------------------------------------------------------------------
DATABASE_URL=$db_url "${server_cmd[@]}" >"$logs/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
	curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
	kill -0 "$server_pid" 2>/dev/null || die "the server exited: see $logs/server.log"
	sleep 0.1
done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || die "the server did not become ready: see $logs/server.log"
say "server ($server) pid $server_pid on 127.0.0.1:$port, database $db"

url="http://127.0.0.1:$port/query"
wrk_script="$root/bench/wrk/graphql.lua"

# check sends one request of a shape and fails on anything but data without errors: a benchmark
# of error responses is worthless.
check() {
	local shape=$1 line body
	line=$(head -n 1 "$data/$shape.txt")
	set -- $line
	case $shape in
	page) body='{"query":"query Page($p: ID!) { tasks(filter: {projectId: $p}, first: 50) { nodes { id label status phase { id name internal } assignees { id name email } } } }","variables":{"p":"'$1'"}}' tok=$2 ;;
	task) body='{"query":"query Task($t: ID!) { task(id: $t) { id label assignees { id name email } } }","variables":{"t":"'$1'"}}' tok=$2 ;;
	assign) body='{"query":"mutation Assign($t: ID!, $u: ID!) { a: assignUsers(taskId: $t, userIds: [$u]) { id assignees { id } } u: unassignUser(taskId: $t, userId: $u) { id assignees { id } } }","variables":{"t":"'$1'","u":"'$2'"}}' tok=$3 ;;
	esac
	local out
	out=$(curl -s -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' -d "$body" "$url")
	case $out in
	*'"errors"'* | '') die "$shape: the server answers with errors: ${out:0:300}" ;;
	esac
}

# sample_rss writes the server's VmRSS (kB) every 200 ms until killed.
sample_rss() {
	while kill -0 "$server_pid" 2>/dev/null; do
		awk '/^VmRSS/ {print $2}' "/proc/$server_pid/status" 2>/dev/null || true
		sleep 0.2
	done
}

# cpu_ticks PID prints "pid ticks" (user + system CPU, in clock ticks) of the process PID (the
# server, or pgbench) and of the PostgreSQL backends connected to the benchmark database.
cpu_ticks() {
	local pid files=()
	for pid in $1 $(ps -eo pid=,args= | awk -v db=" $db " 'index($0, "postgres:") && index($0, db) {print $1}'); do
		[ -r "/proc/$pid/stat" ] && files+=("/proc/$pid/stat")
	done
	cat "${files[@]}" 2>/dev/null | awk '{pid = $1; sub(/^.*\) /, ""); print pid, $12 + $13}'
}

# cpu_per_request BEFORE AFTER PID N prints the CPU milliseconds per request of the process PID
# and of the database backends between two cpu_ticks snapshots, for N requests.
cpu_per_request() {
	awk -v n="$4" -v main="$3" -v hz="$(getconf CLK_TCK)" '
		FNR == NR {before[$1] = $2; next}
		{d = $2 - before[$1]; if ($1 == main) s += d; else b += d}
		END {printf "%.2f %.2f\n", (n > 0 ? s * 1000 / hz / n : 0), (n > 0 ? b * 1000 / hz / n : 0)}' "$1" "$2"
}

# statements prints "requests statements" served so far (bench/server only; "0 0" otherwise).
statements() {
	if [ "$server" = bench ]; then
		curl -fs "http://127.0.0.1:$((port + 1))/debug/statements" || echo "0 0"
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

results="$work/results-$(date +%Y%m%d-%H%M%S).tsv"
printf 'run\tshape\tours_rps\tours_p50_us\tours_p99_us\tpg_rps\tpg_p50_us\tpg_p99_us\trss_max_kb\tbad\tstatements_per_request\tserver_cpu_ms\tdb_cpu_ms\tpgbench_cpu_ms\tpgbench_db_cpu_ms\twrk_cpu_ms\n' >"$results"
pgvars=(-D "orgs=$ORGS" -D "projects=$PROJECTS" -D "tasks=$TASKS" -D "pairs=$PAIRS")

say "load: ${duration}s per shape, $connections connections, $threads threads, $runs run(s); load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq "$runs"); do
	for shape in $shapes; do
		check "$shape"
		# Warm-up: connection pools, statement caches, the Go heap.
		wrk -t"$threads" -c"$connections" -d"${warmup}s" --timeout 30s -s "$wrk_script" "$url" -- "$shape" "$data/$shape.txt" >/dev/null 2>&1
		sleep 1 # let the warm-up's last requests, cancelled when wrk hung up, drain

		sample_rss >"$logs/rss-$shape-$run.txt" &
		sampler_pid=$!
		profile_pid=""
		if [ $profile = 1 ] && [ "$run" = 1 ]; then
			secs=$((duration > 6 ? duration - 4 : duration))
			curl -s -o "$work/$shape.cpu.pprof" "http://127.0.0.1:$((port + 1))/debug/pprof/profile?seconds=$secs" &
			profile_pid=$!
		fi
		# CPU and statements are counted over a window inside the run: when wrk hangs up, the
		# requests in flight are cancelled and their database connections closed, which would lose
		# the CPU of those backends.
		window=$((duration > 5 ? duration - 3 : 1))
		TIMEFORMAT='%U %S'
		{ time wrk -t"$threads" -c"$connections" -d"${duration}s" --timeout 30s -s "$wrk_script" "$url" -- "$shape" "$data/$shape.txt" >"$logs/wrk-$shape-$run.txt" 2>&1; } 2>"$logs/wrk-cpu-$shape-$run.txt" &
		wrk_pid=$!
		sleep 1
		counted_before=$(statements)
		cpu_ticks "$server_pid" >"$logs/cpu-before"
		sleep "$window"
		counted_after=$(statements)
		cpu_ticks "$server_pid" >"$logs/cpu-after"
		wait "$wrk_pid"
		wrk_pid=""
		[ -n "$profile_pid" ] && wait "$profile_pid"
		profile_pid=""
		kill "$sampler_pid" 2>/dev/null || true
		wait "$sampler_pid" 2>/dev/null || true
		sampler_pid=""
		read -r _ _ o_rps o_p50 o_p99 _ o_bad o_sock < <(grep '^RESULT' "$logs/wrk-$shape-$run.txt") ||
			die "wrk gave no result: see $logs/wrk-$shape-$run.txt"
		rss=$(sort -n "$logs/rss-$shape-$run.txt" | tail -n 1)
		read -r _ _ _ _ _ o_requests _ < <(grep '^RESULT' "$logs/wrk-$shape-$run.txt")
		read -r cpu_server cpu_db < <(cpu_per_request "$logs/cpu-before" "$logs/cpu-after" "$server_pid" \
			"$(awk -v r="$o_rps" -v w="$window" 'BEGIN {printf "%d", r * w}')")
		cpu_wrk=$(awk -v n="$o_requests" '{printf "%.2f\n", (n > 0 ? ($1 + $2) * 1000 / n : 0)}' "$logs/wrk-cpu-$shape-$run.txt")
		spr=$(echo "$counted_before $counted_after" | awk '{ n = $3 - $1; printf "%.2f", (n > 0 ? ($4 - $2) / n : 0) }')

		pgbench -n -M prepared -c "$connections" -j "$threads" -T "$warmup" "${pgvars[@]}" \
			-f "$root/bench/pgbench/$shape.sql" "$db_url" >/dev/null 2>&1 || true
		rm -rf "$logs/pgbench-$shape-$run" && mkdir -p "$logs/pgbench-$shape-$run"
		(cd "$logs/pgbench-$shape-$run" && exec pgbench -n -M prepared -c "$connections" -j "$threads" -T "$duration" \
			"${pgvars[@]}" -l -f "$root/bench/pgbench/$shape.sql" "$db_url" >summary.txt 2>&1) &
		pgbench_pid=$!
		# CPU of pgbench and its backends over the same window inside the run (backends exit with it).
		sleep 1
		cpu_ticks "$pgbench_pid" >"$logs/cpu-before"
		sleep "$window"
		cpu_ticks "$pgbench_pid" >"$logs/cpu-after"
		wait "$pgbench_pid" || die "pgbench $shape failed: see $logs/pgbench-$shape-$run/summary.txt"
		p_rps=$(awk '/^tps =/ {print $3}' "$logs/pgbench-$shape-$run/summary.txt")
		read -r cpu_pgbench cpu_pgdb < <(cpu_per_request "$logs/cpu-before" "$logs/cpu-after" "$pgbench_pid" \
			"$(awk -v r="$p_rps" -v w="$window" 'BEGIN {printf "%d", r * w}')")
		pgbench_pid=""
		read -r p_p50 p_p99 < <(percentiles "$logs/pgbench-$shape-$run"/pgbench_log.*)

		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$shape" "$o_rps" "$o_p50" "$o_p99" \
			"$p_rps" "$p_p50" "$p_p99" "$rss" "$((o_bad + o_sock))" "$spr" "$cpu_server" "$cpu_db" "$cpu_pgbench" "$cpu_pgdb" "$cpu_wrk" >>"$results"
		say "run $run $shape: ours $o_rps req/s p50 ${o_p50}us p99 ${o_p99}us ($o_bad bad, $o_sock socket errors); pgbench $p_rps tps p50 ${p_p50}us p99 ${p_p99}us; RSS max ${rss} kB; ${spr/#0.00/-} statements/request; CPU ms/request: wrk ${cpu_wrk} + server ${cpu_server} + its backends ${cpu_db}; pgbench ${cpu_pgbench} + its backends ${cpu_pgdb}"
		[ "$o_bad" = 0 ] || say "WARNING: $o_bad bad responses in $shape: $(grep BAD_SAMPLE "$logs/wrk-$shape-$run.txt" | cut -c1-300)"
	done
done
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$server_pid/status")

# --- report: the median over the runs of each figure; ratios are medians of per-run ratios -------
echo
echo "taskql load benchmark: $TASKS tasks, $PROJECTS projects, $ORGS organizations; ${duration}s x $connections connections; median of $runs run(s)"
awk -F'\t' -v hwm="$hwm" '
function median(list,   n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
NR > 1 {
	s = $2; if (!(s in seen)) { seen[s] = 1; order[++k] = s }
	rr[s] = rr[s] " " ($3 / $6); pr[s] = pr[s] " " ($8 > 0 ? $5 / $8 : 0)
	ors[s] = ors[s] " " $3; o50[s] = o50[s] " " $4; o99[s] = o99[s] " " $5
	prs[s] = prs[s] " " $6; p50[s] = p50[s] " " $7; p99[s] = p99[s] " " $8
	if ($9 > rss[s]) rss[s] = $9; bad[s] += $10; spr[s] = spr[s] " " $11; cs[s] = cs[s] " " $12; cd[s] = cd[s] " " $13; cp[s] = cp[s] " " $14; cpd[s] = cpd[s] " " $15; cw[s] = cw[s] " " $16
	cr[s] = cr[s] " " (($12 + $13 + $16) > 0 ? ($14 + $15) / ($12 + $13 + $16) : 0)
}
END {
	printf "%-7s %9s %9s | %9s %8s %8s | %9s %8s %8s | %5s\n", "shape", "rps ratio", "p99 ratio", "ours r/s", "p50 ms", "p99 ms", "pg tps", "p50 ms", "p99 ms", "bad"
	for (i = 1; i <= k; i++) {
		s = order[i]
		printf "%-7s %9.2f %9.2f | %9.0f %8.2f %8.2f | %9.0f %8.2f %8.2f | %5d\n", s, median(rr[s]), median(pr[s]),
			median(ors[s]), median(o50[s]) / 1000, median(o99[s]) / 1000, median(prs[s]), median(p50[s]) / 1000, median(p99[s]) / 1000, bad[s]
	}
	printf "rps ratio = ours/pgbench (target >= 0.50); p99 ratio = ours/pgbench (target <= 2)\n\n"
	printf "%-7s %9s | %9s %7s %7s %7s | %7s %7s | %7s\n", "shape", "CPU ratio", "stmts/req", "wrk", "server", "db", "pgbench", "db", "RSS MB"
	for (i = 1; i <= k; i++) {
		s = order[i]
		stm = median(spr[s]) > 0 ? sprintf("%.2f", median(spr[s])) : "-"
		printf "%-7s %9.2f | %9s %7.2f %7.2f %7.2f | %7.2f %7.2f | %7.1f\n", s, median(cr[s]), stm,
			median(cw[s]), median(cs[s]), median(cd[s]), median(cp[s]), median(cpd[s]), rss[s] / 1024
	}
	printf "CPU milliseconds per request: wrk, the server, its PostgreSQL backends | pgbench, its backends.\n"
	printf "CPU ratio = pgbench side / our side: the rps ratio a machine of our own would give when CPU-bound.\n"
	printf "stmts/req: SQL statements per request (bench/server only). Server peak RSS (VmHWM): %.1f MB (target < 100)\n", hwm / 1024
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
