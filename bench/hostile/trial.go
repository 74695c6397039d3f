package main

// A trial: one finding run against one fresh server process, measured, and the methods through
// which a finding sends its requests and reports what it saw.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// trial is one finding running against one fresh server process.
type trial struct {
	ctx    context.Context
	h      *harness
	srv    *server
	m      *meter
	client *http.Client // hostile requests: --timeout
	start  time.Time
	res    *result

	frozen  bool
	wallSet bool
}

// runFinding restarts the server fresh (same database), checks it answers, measures the finding,
// then checks whether a normal request is answered right after, and stops the server.
func (h *harness) runFinding(ctx context.Context, f finding) result {
	res := result{ID: f.id, Request: f.request}
	if f.skip != nil {
		if reason := f.skip(h.cfg); reason != "" {
			res.Status = "skipped"
			res.Notes = []string{reason}
			return res
		}
	}
	dbURL := h.dbURL
	if f.setup != nil {
		url, cleanup, err := f.setup(ctx, h)
		if err != nil {
			res.Status = "not measured: setup failed"
			res.Notes = []string{err.Error()}
			return res
		}
		defer cleanup() // after the server has stopped (deferred below)
		dbURL = url
	}
	srv, err := h.startServer(ctx, dbURL)
	if err != nil {
		res.Status = "not measured: server did not start"
		res.Notes = []string{err.Error()}
		return res
	}
	defer srv.stop()
	h.measure(ctx, f, srv, &res)
	return res
}

// measure runs the finding on srv, once a normal request is answered, with the meter around it,
// and fills in res: the figures, how the finding ended and whether the next request is answered.
func (h *harness) measure(ctx context.Context, f finding, srv *server, res *result) {
	if r := h.normal(ctx, srv, 10*time.Second); !r.ok() {
		res.Status = "not measured: warm-up request answered " + r.label()
		return
	}
	m, err := startMeter(srv, h.cfg.rssLimitMB)
	if err != nil {
		res.Status = "not measured: " + err.Error()
		return
	}
	if !m.peakReset {
		res.Notes = append(res.Notes, "could not reset VmHWM (clear_refs): peak RSS is sampled every 20 ms")
	}
	t := &trial{ctx: ctx, h: h, srv: srv, m: m, client: newClient(h.cfg.timeout), start: time.Now(), res: res}
	f.run(t)
	t.freeze()
	m.close()

	killed := m.killedAtMB() > 0
	noteEnd(ctx, srv, m, res)
	res.NextOK = h.nextOK(ctx, srv, killed)
}

// noteEnd says how the finding ended: the server killed at the RSS limit (the request's own
// status then goes to the notes), exited, timed out, or interrupted by Ctrl-C.
func noteEnd(ctx context.Context, srv *server, m *meter, res *result) {
	if m.killedAtMB() > 0 {
		select { // reaped, so that the next request is not sent to a dying process
		case <-srv.exited:
		case <-time.After(10 * time.Second):
		}
		res.Notes = append([]string{"the request saw: " + res.Status}, res.Notes...)
		res.Status = fmt.Sprintf("killed at %d MB", m.killedAtMB())
	} else if note := srv.exitNote(); note != "" {
		res.Notes = append(res.Notes, note)
	}
	if strings.Contains(res.Status, "timeout") {
		res.Notes = append(res.Notes, "server restarted after the timeout")
	}
	if ctx.Err() != nil {
		res.Notes = append(res.Notes, "interrupted (Ctrl-C): figures are partial")
	}
}

// nextOK is the "next request OK" column: whether a normal request is answered right after the
// finding, unless the server is known to be gone or Ctrl-C was pressed.
func (h *harness) nextOK(ctx context.Context, srv *server, killed bool) string {
	switch {
	case killed:
		return "no (server killed)"
	case !srv.alive():
		return "no (server gone)"
	case ctx.Err() != nil:
		return "not checked"
	}
	r := h.normal(ctx, srv, 10*time.Second)
	if r.ok() {
		return fmt.Sprintf("yes (%.2f s)", r.Wall.Seconds())
	}
	return fmt.Sprintf("no: %s after %.1f s", r.label(), r.Wall.Seconds())
}

// normal is the normal request: { viewer { id } } as the admin.
func (h *harness) normal(ctx context.Context, srv *server, timeout time.Duration) reply {
	return postGraphQL(ctx, newClient(timeout), srv.base, gqlBody(viewerQuery, nil), adaToken, nil)
}

// freeze ends the measured part of the finding: CPU, peak RSS and wall time are taken now (a
// finding may go on afterwards, e.g. to read the idle RSS). Only the first call counts.
func (t *trial) freeze() {
	if t.frozen {
		return
	}
	t.frozen = true
	cpu, peak := t.m.cpuSeconds(), t.m.peakMB()
	t.res.CPU, t.res.PeakRSS = &cpu, &peak
	if !t.wallSet {
		wall := time.Since(t.start).Seconds()
		t.res.Wall = &wall
	}
}

// setWall reports this wall time instead of the finding's (F4: the normal request's).
func (t *trial) setWall(d time.Duration) {
	w := d.Seconds()
	t.res.Wall, t.wallSet = &w, true
}

// post sends body to /query with --timeout, as token, with extra headers hdr.
func (t *trial) post(body []byte, token string, hdr http.Header) reply {
	return postGraphQL(t.ctx, t.client, t.srv.base, body, token, hdr)
}

// send posts one query as the admin and reports its reply as the finding's status.
func (t *trial) send(query string, vars map[string]any) reply {
	r := t.post(gqlBody(query, vars), adaToken, nil)
	t.reportReply(r)
	return r
}

// reportReply makes r the finding's status, with its size and its first GraphQL error message.
func (t *trial) reportReply(r reply) {
	t.res.Status = r.label()
	if r.Status != 0 {
		t.extra("response_bytes", r.Size)
	}
	if g, ok := r.gql(); ok && len(g.Errors) > 0 {
		t.note("message: %s", clip(g.Errors[0].Message, 100))
	}
}

// note adds a note to the finding's row.
func (t *trial) note(format string, args ...any) {
	t.res.Notes = append(t.res.Notes, fmt.Sprintf(format, args...))
}

// extra adds a machine-readable figure to the finding's JSON.
func (t *trial) extra(k string, v any) {
	if t.res.Extra == nil {
		t.res.Extra = map[string]any{}
	}
	t.res.Extra[k] = v
}

// sleep waits d, or less on Ctrl-C (false then).
func (t *trial) sleep(d time.Duration) bool {
	select {
	case <-time.After(d):
		return true
	case <-t.ctx.Done():
		return false
	}
}
