package main

// The Markdown report: what was measured and on what, then a table per test. What did not run
// (an error, a Ctrl-C) is said so.

import (
	"debug/buildinfo"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

type report struct {
	cfg       config
	started   time.Time
	loadStart string
	loadEnd   string
	binary    string
	database  string
	pids      string
	servers   []*server
	rssIdle   [2]int64
	latency   []latencyResult
	fanout    fanoutResult
	rate      rateResult
}

func newReport(cfg config) *report {
	return &report{cfg: cfg, started: time.Now(), loadStart: loadAverage(), binary: describeBinary(cfg.bin)}
}

func (r *report) finish() { r.loadEnd = loadAverage() }

// describeBinary names the binary's commit and toolchain from its build information.
func describeBinary(path string) string {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return path + " (no build information: " + err.Error() + ")"
	}
	s := map[string]string{}
	for _, kv := range bi.Settings {
		s[kv.Key] = kv.Value
	}
	rev := s["vcs.revision"]
	if len(rev) > 7 {
		rev = rev[:7]
	}
	if rev == "" {
		rev = "unknown (no VCS stamp: built with -buildvcs=false?)"
	}
	if s["vcs.modified"] == "true" {
		rev += " with uncommitted changes"
	}
	head := "?"
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		head = strings.TrimSpace(string(out))
	}
	return fmt.Sprintf("%s, built with %s from commit %s; the current directory's HEAD is %s", path, bi.GoVersion, rev, head)
}

func (r *report) write(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("# taskql real-time delivery (bench/realtime)\n")
	p("| | |\n|---|---|")
	p("| date | %s |", r.started.UTC().Format("2006-01-02 15:04 MST"))
	p("| binary | %s |", r.binary)
	p("| machine | %d CPUs (%s/%s); load average (1, 5, 15 min) %s at the start, %s at the end |",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, r.loadStart, r.loadEnd)
	p("| database | %s, fresh, on %s, dropped at the end |", orNone(r.database), r.cfg.dbURLBase)
	p("| servers | %s; `%s`; idle RSS A %s MB, B %s MB |",
		orNone(r.pids), strings.Join(serveArgs(r.cfg), " "), mb(r.rssIdle[0]), mb(r.rssIdle[1]))
	p("| subscription | `%s` (--document %s) |", subscriptionDocument(r.cfg.document), r.cfg.document)
	p("")
	r.writeLatency(p)
	r.writeFanout(p)
	r.writeRate(p)
	r.writeServerLogs(p)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func (r *report) writeLatency(p func(string, ...any)) {
	p("## 1. Latency of one change (%d changes, one at a time: Ada assigned to / unassigned from %s)\n", r.cfg.changes, latTask)
	p("From just before the mutation's HTTP request is sent to the subscriber's receipt of its message.\n")
	p("| path | changes | received | p50 ms | p90 ms | p99 ms | max ms | mean ms | mutation reply p50 ms | receipt after the reply p50 ms | lost / wrong / failed |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	for _, l := range r.latency {
		p("| %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %d / %d / %d |", l.name, l.n, l.lat.n, ms(l.lat.p50), ms(l.lat.p90),
			ms(l.lat.p99), ms(l.lat.max), ms(l.lat.mean), ms(l.reply.p50), ms(l.after.p50), l.lost, l.mismatched, l.failed)
	}
	if len(r.latency) == 0 {
		p("| (not run) | | | | | | | | | | |")
	}
	p("")
	for _, l := range r.latency {
		if l.ran {
			p("- %s: %s.", l.name, l.use)
		}
		if l.firstErr != "" {
			p("- %s: first error: %s", l.name, l.firstErr)
		}
	}
	p("")
}

func (r *report) writeFanout(p func(string, ...any)) {
	f := r.fanout
	p("## 2. Fan-out: one change to %d subscribers on B (mutation through A)\n", r.cfg.subscribers)
	if f.connected == 0 && !f.ran {
		p("Not run.\n")
		return
	}
	p("%d of %d subscribers connected (a WebSocket each, tokens of Ada, Grace and Katherine in turn, subscribed to projectId %s) in %.1f s, %d at a time; %d failed%s.\n",
		f.connected, f.want, fanProject, f.connectTime.Seconds(), r.cfg.dialers, f.connectErrs, suffix(f.connectErr))
	per := "?"
	if f.rssBefore > 0 && f.rssConnected > 0 && f.connected > 0 {
		per = fmt.Sprintf("%.1f", float64(f.rssConnected-f.rssBefore)/float64(f.connected))
	}
	p("| B's VmRSS before the subscribers | 1 s after they connected | after each received a first change | per subscriber (connected − before) |")
	p("|---:|---:|---:|---:|")
	p("| %s MB | %s MB | %s MB | %s kB |\n", mb(f.rssBefore), mb(f.rssConnected), mb(f.rssWarm), per)
	p("| change | received | median ms | last ms | not received / wrong | B CPU s | A CPU s | this tool CPU s | its database's PostgreSQL backends CPU s | wall s | machine busy |")
	p("|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|")
	var bSum float64
	var got int
	for i, x := range f.rounds {
		p("| %d | %d | %s | %s | %d / %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f %% |", i+1, x.received, ms(x.median), ms(x.last),
			x.lost, x.mismatched, x.use.b, x.use.a, x.use.client, x.use.pgOurs, x.use.wall.Seconds(), 100*x.use.share(x.use.machineBusy))
		bSum, got = bSum+x.use.b, got+x.received
	}
	if got > 0 {
		p("\nB spent %.2f CPU s on the %d deliveries of these changes: %.0f µs of CPU per message.", bSum, got, 1e6*bSum/float64(got))
	}
	p("Times from just before the mutation's request; CPU from /proc/PID/stat in 10 ms ticks, from before the request until the waiter saw the last receipt (within 5 ms).\n")
}

func suffix(s string) string {
	if s == "" {
		return ""
	}
	return " (first: " + s + ")"
}

func (r *report) writeRate(p func(string, ...any)) {
	x := r.rate
	p("## 3. Throughput: %.0f changes/s for %v, fanned out to the subscribers on B\n", r.cfg.rate, r.cfg.duration)
	if !x.ran {
		p("Not run.\n")
		return
	}
	u, sendWin := x.use, (x.lastSend - x.firstSend).Seconds()
	p("| measure | value |\n|---|---|")
	p("| changes (through A, 4 tasks) | %d planned, %d committed, %d failed%s; %.1f/s achieved; latest send %s ms behind schedule |",
		x.planned, x.committed, x.failed, suffix(x.firstErr), per(float64(x.committed-1), sendWin), ms(x.maxLag))
	p("| subscribers | %d live at the start (%d had ended before) |", x.subscribers, x.endedBefore)
	p("| messages | %d expected, %d delivered (%.2f %%) within %v after the last change; %d not matching their task's next change |",
		x.expected, x.delivered, 100*per(float64(x.delivered), float64(x.expected)), r.cfg.wait, x.mismatched)
	p("| delivered per second | %.0f while the changes were made (%d in %.2f s); %.0f from the first change to the last receipt (%.2f s) |",
		per(float64(x.inWindow), sendWin), x.inWindow, sendWin, per(float64(x.delivered), (x.lastReceipt-x.firstSend).Seconds()),
		(x.lastReceipt - x.firstSend).Seconds())
	p("| delivery latency, ms (undelivered ranked last) | p50 %s, p90 %s, p99 %s, max %s; mean of those delivered %s |",
		ms(x.lat.p50), ms(x.lat.p90), ms(x.lat.p99), ms(x.lat.max), ms(x.lat.mean))
	p("| server B (delivers) | %.2f CPU s in %.2f s: %.2f CPU s/s, %.0f %% of the %d cores; %.0f µs of CPU per message; peak VmRSS %s MB |",
		u.b, u.wall.Seconds(), per(u.b, u.wall.Seconds()), 100*u.share(u.b), u.cpus, 1e6*per(u.b, float64(x.delivered)), mb(x.peakRSS))
	p("| server A (mutates) | %.2f CPU s: %.0f %% of the cores |", u.a, 100*u.share(u.a))
	p("| this tool (mutators, readers) | %.2f CPU s: %.0f %% of the cores |", u.client, 100*u.share(u.client))
	p("| PostgreSQL (all its processes, other tenants' too) | %.2f CPU s: %.0f %% of the cores; of which this run's database's backends %.2f CPU s (%.0f %%) |",
		u.pg, 100*u.share(u.pg), u.pgOurs, 100*u.share(u.pgOurs))
	p("| whole machine | %.0f %% busy; others (not the above) %.2f CPU s, %.0f %% |", 100*u.share(u.machineBusy), u.others(), 100*u.share(u.others()))
	p("| subscriptions ended (fell behind) | %d%s |", x.endedDuring, suffix(x.endWhy))
	if x.badMessages > 0 {
		p("| messages with errors | %d (first: `%s`) |", x.badMessages, x.badMessageSample)
	}
	p("")
}

// per is a/b, or 0 when b is not positive.
func per(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

func (r *report) writeServerLogs(p func(string, ...any)) {
	for _, s := range r.servers {
		if n, last := s.out.warnings(); n > 0 {
			p("- server %s logged %d warning/error lines in its last 32 KB of output; the last: `%s`", s.name, n, last)
		}
	}
}
