package main

// The findings that make the database misbehave under the server: F5 locks the tasks table,
// F11 stops the private PostgreSQL cluster the server runs on and starts it again.

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// F5: an ACCESS EXCLUSIVE lock on tasks held for 10 s; task lists pile up behind it, then an
// unrelated request and /readyz are timed.
func f5LockedTable(t *trial) {
	lctx, cancel := context.WithTimeout(t.ctx, 30*time.Second)
	defer cancel()
	lock, err := lockTasks(lctx, t.h.pgDB)
	if err != nil {
		t.res.Status = "not measured: psql: " + err.Error()
		return
	}
	defer func() { // the lock's end is bounded by lctx (30 s)
		if err := lock.wait(); err != nil {
			t.note("psql holding the lock: %v", err)
		}
	}()
	if !t.sleep(1 * time.Second) {
		return
	}
	reportLocked(t, sendBehindLock(t))
}

// tableLock is a psql process holding an ACCESS EXCLUSIVE lock on tasks for 10 s.
type tableLock struct {
	out  bytes.Buffer // psql's output, for the note when it fails
	done chan error   // psql's exit
}

// lockTasks starts psql on the database db, taking the lock; ctx bounds psql.
func lockTasks(ctx context.Context, db string) (*tableLock, error) {
	cmd := exec.CommandContext(ctx, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", pgHost, "-p", pgPort,
		"-U", "postgres", "-d", db,
		"-c", "BEGIN; LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(10); COMMIT;")
	l := &tableLock{done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = &l.out, &l.out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { l.done <- cmd.Wait() }()
	return l, nil
}

// wait waits for psql to end and returns its error with the end of its output.
func (l *tableLock) wait() error {
	if err := <-l.done; err != nil {
		return fmt.Errorf("%v %s", err, tailString(l.out.String(), 200))
	}
	return nil
}

// lockedReply is a reply of F5, and which of its requests got it: "tasks", "viewer" or "readyz".
type lockedReply struct {
	r    reply
	what string
}

// sendBehindLock sends 10 task lists, then (100 ms later, so that they queue first) a viewer
// request and GET /readyz, all at once, and returns their replies once all are in.
func sendBehindLock(t *trial) <-chan lockedReply {
	var wg sync.WaitGroup
	replies := make(chan lockedReply, 12)
	for range 10 {
		wg.Go(func() {
			replies <- lockedReply{t.post(gqlBody(`{ tasks(first:5){ nodes { id } } }`, nil), adaToken, nil), "tasks"}
		})
	}
	time.Sleep(100 * time.Millisecond) // the task lists first
	wg.Go(func() {
		replies <- lockedReply{postGraphQL(t.ctx, t.client, t.srv.base, gqlBody(viewerQuery, nil), adaToken, nil), "viewer"}
	})
	wg.Go(func() { replies <- lockedReply{get(t.ctx, t.client, t.srv.base+"/readyz"), "readyz"} })
	wg.Wait() // each request is bounded by --timeout
	close(replies)
	return replies
}

// reportLocked reports F5's replies: the viewer request's as the finding's status and wall time,
// the task lists' and /readyz's in the notes.
func reportLocked(t *trial, replies <-chan lockedReply) {
	var tasks tally
	var slowest time.Duration
	var readyz reply
	for x := range replies {
		switch x.what {
		case "tasks":
			tasks.add(x.r.label())
			slowest = max(slowest, x.r.Wall)
		case "viewer":
			t.reportReply(x.r)
			t.setWall(x.r.Wall)
			t.extra("viewer_wall_s", x.r.Wall.Seconds())
		case "readyz":
			readyz = x.r
		}
	}
	t.note("wall = the viewer request's; 10 task lists: %s, slowest %.2f s", tasks.String(), slowest.Seconds())
	label := readyz.label()
	if readyz.Status != 0 {
		label = fmt.Sprintf("%d %s", readyz.Status, strings.TrimSpace(string(readyz.Body)))
	}
	t.note("GET /readyz: %s in %.2f s", label, readyz.Wall.Seconds())
	t.extra("readyz_status", readyz.Status)
	t.extra("readyz_wall_s", readyz.Wall.Seconds())
}

// f11Skip skips F11 unless it runs on PostgreSQL with --f11.
func f11Skip(cfg config) string {
	if cfg.db != "postgres" {
		return "postgres only (run with --db postgres --f11)"
	}
	if !cfg.f11 {
		return "needs --f11 (a private PostgreSQL cluster is created and stopped)"
	}
	return ""
}

// f11Setup creates and starts the private cluster; the server of F11 runs on it.
func f11Setup(ctx context.Context, h *harness) (string, func(), error) {
	logf("F11: initdb and start a private cluster on 127.0.0.1:%d", h.cfg.f11Port)
	c, err := newCluster(ctx, h.cfg.pgBin, h.cfg.f11Port)
	if err != nil {
		return "", nil, err
	}
	h.cluster = c
	return c.url(), func() { c.remove(); h.cluster = nil }, nil
}

// F11: the database goes away (-m immediate), 200 requests over 2 s, then it comes back.
func f11DatabaseDown(t *trial) {
	c := t.h.cluster
	lines0 := t.srv.stderr.lineCount()
	if err := c.stop(t.ctx, "immediate"); err != nil {
		t.res.Status = "not measured: " + err.Error()
		return
	}
	outage := time.Now()
	var mu sync.Mutex
	var statuses tally
	var wg sync.WaitGroup
	for i := 0; i < 200 && t.ctx.Err() == nil; i++ {
		time.Sleep(time.Until(outage.Add(time.Duration(i) * 10 * time.Millisecond))) // 200 over 2 s
		wg.Go(func() {
			r := t.post(gqlBody(viewerQuery, nil), adaToken, nil)
			mu.Lock()
			statuses.add(r.label())
			mu.Unlock()
		})
	}
	window := time.Since(outage)
	linesWindow := t.srv.stderr.lineCount() - lines0
	wg.Wait()                          // each request is bounded by --timeout
	time.Sleep(200 * time.Millisecond) // the last lines through the stderr pipe
	linesAll := t.srv.stderr.lineCount() - lines0
	t.res.Status = statuses.String()
	t.note("server stderr lines during the %.1f s of requests: %d (%d once all were answered, after %.1f s)",
		window.Seconds(), linesWindow, linesAll, time.Since(outage).Seconds())
	if linesAll > 0 {
		t.note("a line: %s", clip(t.srv.stderr.lastLine(), 200))
	}
	t.extra("stderr_lines_window", linesWindow)
	t.extra("stderr_lines_all", linesAll)

	restart := time.Now()
	if err := c.start(t.ctx); err != nil {
		t.note("restarting the cluster: %v", err)
		return
	}
	started := time.Since(restart)
	for i := 0; i < 600 && t.ctx.Err() == nil; i++ {
		r := t.h.normal(t.ctx, t.srv, 5*time.Second)
		if r.ok() {
			t.note("first 200 %.2f s after pg_ctl start (pg_ctl took %.2f s; request %d of the polling)",
				time.Since(restart).Seconds(), started.Seconds(), i+1)
			t.extra("first_200_after_restart_s", time.Since(restart).Seconds())
			return
		}
		t.sleep(100 * time.Millisecond)
	}
	t.note("no 200 within 60 s after pg_ctl start")
}
