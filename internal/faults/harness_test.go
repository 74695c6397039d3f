package faults

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// expect is what a fault test asserts beyond what every one does (verify, checkRefusals, the
// server alive).
type expect struct {
	outageLogs   [2]int        // the least and the most times "database unreachable" (and "database reachable again") may be logged
	readyDown    bool          // /readyz must answer 503 during each fault, and 200 after it by itself
	firstSuccess time.Duration // the first acknowledged write after each fault must come within this (0: only reported)
	refusals     bool          // the fault must have refused writes with UNAVAILABLE
}

// faultRun is a fault under load, as it went.
type faultRun struct {
	srv     *server
	load    *load
	windows []window
	ready   []sample
}

// underLoad runs the writers on srv for about total while fault runs (it returns when each fault
// held), then gives each writer settle to have the change it is sending acknowledged.
func underLoad(t *testing.T, srv *server, total, settle time.Duration, fault func() []window) *faultRun {
	t.Helper()
	ctx, stopPolling := context.WithCancel(context.Background())
	defer stopPolling()
	ready := pollReady(ctx, srv.base)
	start := time.Now()
	l := startLoad(t, srv.base)
	windows := fault()
	time.Sleep(time.Until(start.Add(total)))
	l.stop(settle)
	stopPolling()
	return &faultRun{srv: srv, load: l, windows: windows, ready: <-ready}
}

// check asserts what every fault test asserts and what e adds, reports the figures, and stops the
// server, which must exit 0 on SIGTERM. It returns the figures.
func (r *faultRun) check(t *testing.T, e expect) figures {
	t.Helper()
	if !r.srv.alive() {
		t.Fatalf("the server exited during the fault (%v)\n%s", r.srv.exitErr, r.srv.stderr)
	}
	f := r.load.verify(t, r.srv.base)
	t.Logf("writes: %v", f)
	if f.lost > 0 {
		t.Errorf("%d acknowledged writes lost", f.lost)
	}
	r.load.checkRefusals(t, r.windows, nil)
	if e.refusals && f.refused["UNAVAILABLE"] == 0 {
		t.Errorf("no write was refused with UNAVAILABLE: did the fault happen?")
	}
	for i, w := range r.windows {
		d := r.load.firstSuccess(w.to)
		t.Logf("fault %d: held %v; first acknowledged write %s after it ended", i+1, w.to.Sub(w.from).Round(time.Millisecond), roundOrNone(d))
		if e.firstSuccess > 0 && (d < 0 || d > e.firstSuccess) {
			t.Errorf("fault %d: the first acknowledged write came %v after the database was back, want within %v", i+1, d, e.firstSuccess)
		}
	}
	checkReady(t, r.ready, r.windows, e.readyDown)
	checkLogs(t, r.srv, e.outageLogs)
	r.srv.stop(t)
	return f
}

// checkReady reports what /readyz answered and, when down is set, checks that it answered 503
// during each fault and 200 again within 3 s after it, by itself.
func checkReady(t *testing.T, samples []sample, windows []window, down bool) {
	t.Helper()
	for i, w := range windows {
		var unready, after int
		back := time.Duration(-1)
		for _, s := range samples {
			if s.status != http.StatusOK && !s.at.Before(w.from) && !s.at.After(w.to.Add(1500*time.Millisecond)) {
				unready++
			}
			if s.at.After(w.to) {
				after++
			}
			if s.status == http.StatusOK && back < 0 && s.at.After(w.to) {
				back = s.at.Sub(w.to)
			}
		}
		t.Logf("fault %d: /readyz not ready %d times of %d, 200 again %s after it ended (%d answers after it)",
			i+1, unready, len(samples), roundOrNone(back), after)
		if down && unready == 0 {
			t.Errorf("fault %d: /readyz never answered 503 while it held", i+1)
		}
		if down && (back < 0 || back > 3*time.Second) {
			t.Errorf("fault %d: /readyz answered 200 again %v after it ended, want within 3 s", i+1, back)
		}
	}
	if n := len(samples); down && (n == 0 || samples[n-1].status != http.StatusOK) {
		t.Errorf("/readyz did not end at 200: %+v", samples[max(0, n-3):])
	}
}

// checkLogs checks that the server logged the outage and the recovery between want[0] and want[1]
// times each, as a change of state and not once per request, and nothing at level ERROR.
func checkLogs(t *testing.T, srv *server, want [2]int) {
	t.Helper()
	var down, up, errs int
	var notable []string
	for _, l := range srv.logs() {
		switch {
		case strings.HasPrefix(l.Msg, "database unreachable"):
			down++
		case l.Msg == "database reachable again":
			up++
		case l.Level == "ERROR":
			errs++
		}
		if l.Level != "INFO" || (l.Msg != "serving" && l.Msg != "request") {
			notable = append(notable, l.raw) // not the start, nor an access line (DESIGN §8)
		}
	}
	t.Logf("server log: %d lines besides the start and the access lines; outage logged %d times, recovery %d times, %d ERROR lines",
		len(notable), down, up, errs)
	if down < want[0] || down > want[1] || up < want[0] || up > want[1] || errs > 0 {
		t.Errorf("the server logged the outage %d times and the recovery %d times (want %d to %d each) and %d ERROR lines (want none):\n%s",
			down, up, want[0], want[1], errs, excerpt(notable))
	}
}

// excerpt is the first and last lines of a long log.
func excerpt(lines []string) string {
	if len(lines) > 24 {
		lines = append(append(lines[:12:12], fmt.Sprintf("… %d lines …", len(lines)-24)), lines[len(lines)-12:]...)
	}
	return strings.Join(lines, "\n")
}

// roundOrNone is d to the millisecond, or "never" when negative.
func roundOrNone(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	return d.Round(time.Millisecond).String()
}
