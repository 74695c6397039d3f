package main

// The findings of the security review, one function each. A function sends its hostile request(s)
// through the trial and sets the result's status and notes; the harness measures around it.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"time"
)

var findings = []finding{
	{id: "F1", request: "tasks→nodes→project→tasks… 17 levels of tasks(first:100), ending in id", run: f1NestedLists},
	{id: "F2", request: "60 distinct refused documents of ~925 KB (aliases of viewer { id })", run: f2DocumentCache},
	{id: "F3a", request: "{ viewer { id ×20,000 } } (~60 KB)", run: f3aRepeatedField},
	{id: "F3b", request: "{ viewer { ...F ×10,000 } } fragment F on User { id }", run: f3bFragmentSpreads},
	{id: "F3c", request: "F3a, the client hangs up after 1 s", run: f3cHangUp},
	{id: "F4", request: "8 slow clients (Content-Length 100, 1 body byte/s), then a normal request", run: f4SlowClients},
	{id: "F5", request: "ACCESS EXCLUSIVE lock on tasks for 10 s; 10 task lists, then viewer and /readyz", skip: postgresOnly, run: f5LockedTable},
	{id: "F6a", request: `users(filter: {search: "\u0000"}) (NUL, GraphQL escape)`, run: f6aNUL},
	{id: "F6b", request: "users(filter: {search: 100,000 × a})", run: f6bLongSearch},
	{id: "F6c", request: "tasks(filter: {status: $s}) with 65,535 × OPEN", run: f6cManyVariables},
	{id: "F7", request: "(postgres only)", skip: func(config) string { return "covered by a Go test" }},
	{id: "F8a", request: "{ __schema { types { name } } } as demo-ed-token (not approved)", run: f8aIntrospection},
	{id: "F8b", request: "{ viewr { id } } (misspelled)", run: f8bSuggestions},
	{id: "F9a", request: "10 MiB POST body (valid JSON, huge query string)", run: f9aHugeBody},
	{id: "F9b", request: "malformed JSON body containing ECHO-MARKER-1234", run: f9bEcho},
	{id: "F9c", request: "JSON array of two operations (batching)", run: f9cBatch},
	{id: "F10", request: "1,000 aliased assignUsers (same task, already-assigned user)", run: f10AliasedMutations},
	{id: "F11", request: "private PostgreSQL stopped (-m immediate): 200 × viewer over 2 s, then restarted", skip: f11Skip, setup: f11Setup, run: f11DatabaseDown},
	{id: "F12", request: "X-Request-Id: `<script>alert(1)</script>`", run: f12RequestID},
	{id: "F13", request: "GET / (playground)", run: f13PlaygroundToken},
}

func postgresOnly(cfg config) string {
	if cfg.db != "postgres" {
		return "postgres only (run with --db postgres)"
	}
	return ""
}

// F1: nested lists, tasks(first:100) { nodes { project { tasks(first:100) { … } } } }.
func f1NestedLists(t *trial) {
	const levels = 17
	var b strings.Builder
	b.WriteString("{ ")
	for range levels {
		b.WriteString("tasks(first:100) { nodes { project { ")
	}
	b.WriteString("id")
	for range levels {
		b.WriteString(" } } }")
	}
	b.WriteString(" }")
	t.send(b.String(), nil)
}

// aliasDocument is a query of about size bytes: { dK_a0: viewer { id } dK_a1: viewer { id } … },
// distinct for each k.
func aliasDocument(k, size int) string {
	var b strings.Builder
	b.Grow(size + 64)
	b.WriteString("{")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, " d%d_a%d: viewer { id }", k, i)
	}
	b.WriteString(" }")
	return b.String()
}

// F2: refused documents kept in the document cache.
func f2DocumentCache(t *trial) {
	const docs, size = 60, 925 * 1024
	var statuses tally
	start := time.Now()
	for k := 0; k < docs && t.ctx.Err() == nil && time.Since(start) < 15*time.Minute; k++ {
		r := t.post(gqlBody(aliasDocument(k, size), nil), adaToken, nil)
		statuses.add(r.label())
		if r.timedOut() || !t.srv.alive() || t.m.killedAtMB() > 0 {
			t.note("stopped after document %d", k+1)
			break
		}
	}
	t.res.Status = statuses.String()
	t.note("%d documents of %d KB sent", statuses.total(), size/1024)
	t.freeze()
	if t.srv.alive() && t.m.killedAtMB() == 0 && t.sleep(5*time.Second) && t.m.rssMB() >= 0 {
		idle := t.m.rssMB()
		t.note("RSS 5 s after the last document (idle): %.0f MB", idle)
		t.extra("idle_rss_mb", idle)
	}
}

func repeatedIDQuery() string {
	return "{ viewer {" + strings.Repeat(" id", 20000) + " } }"
}

// F3a: one field repeated 20,000 times.
func f3aRepeatedField(t *trial) { t.send(repeatedIDQuery(), nil) }

// F3b: 10,000 fragment spreads.
func f3bFragmentSpreads(t *trial) {
	t.send("{ viewer {"+strings.Repeat(" ...F", 10000)+" } } fragment F on User { id }", nil)
}

// F3c: F3a, but the client hangs up after 1 s; what the server spends in the next 10 s.
func f3cHangUp(t *trial) {
	body := gqlBody(repeatedIDQuery(), nil)
	conn, err := net.DialTimeout("tcp", t.srv.addr, 5*time.Second)
	if err != nil {
		t.res.Status = transportLabel(err)
		return
	}
	head := rawHead("POST", t.srv.addr, "/query", len(body), map[string]string{
		"Authorization": "Bearer " + adaToken, "Content-Type": "application/json", "Connection": "close"})
	_ = conn.SetDeadline(time.Now().Add(1 * time.Second))
	_, werr := conn.Write(append(head, body...))
	resp, rerr := http.ReadResponse(bufio.NewReader(conn), nil)
	switch {
	case werr != nil:
		t.res.Status = "client hung up at 1 s while still sending (" + transportLabel(werr) + ")"
	case rerr == nil:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxKeep))
		r := reply{Status: resp.StatusCode, Body: b, Size: int64(len(b))}
		t.res.Status = r.label() + " within 1 s (answered before the hang-up)"
	case isTimeout(rerr):
		t.res.Status = "client hung up at 1 s, no answer yet"
	default:
		t.res.Status = "before the hang-up: " + transportLabel(rerr)
	}
	conn.Close()
	atHangUp := t.m.cpuSeconds()
	t.sleep(10 * time.Second)
	after := t.m.cpuSeconds() - atHangUp
	t.note("server CPU in the 10 s after the client hung up: %.2f s", after)
	t.extra("cpu_after_hangup_s", after)
}

// F4: 8 slow clients trickle their bodies while a normal request is timed.
func f4SlowClients(t *trial) {
	const conns = 8
	body := []byte(`{"query":"{ viewer { id } }"}`)
	body = append(body, bytes.Repeat([]byte(" "), 100-len(body))...)
	head := rawHead("POST", t.srv.addr, "/query", len(body), map[string]string{
		"Authorization": "Bearer " + adaToken, "Content-Type": "application/json"})

	type outcome struct {
		label string
		at    time.Duration
	}
	start := time.Now()
	stop := make(chan struct{})
	var closing sync.Map // conns this tool closed
	outcomes := make(chan outcome, conns)
	var open []net.Conn
	for i := 0; i < conns; i++ {
		c, err := net.DialTimeout("tcp", t.srv.addr, 5*time.Second)
		if err == nil {
			_, err = c.Write(head)
		}
		if err != nil {
			t.note("slow client %d: %s", i+1, transportLabel(err))
			if c != nil {
				c.Close()
			}
			continue
		}
		open = append(open, c)
		go func() { // 1 byte a second, at most len(body) bytes
			for i := range body {
				if _, err := c.Write(body[i : i+1]); err != nil {
					return
				}
				select {
				case <-stop:
					return
				case <-time.After(time.Second):
				}
			}
		}()
		go func() {
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			at := time.Since(start)
			switch _, ours := closing.Load(c); {
			case err == nil:
				resp.Body.Close()
				outcomes <- outcome{fmt.Sprintf("answered %d", resp.StatusCode), at}
			case ours:
				outcomes <- outcome{"still open when we closed it", at}
			default:
				outcomes <- outcome{"server: " + transportLabel(err), at}
			}
		}()
	}
	t.sleep(1 * time.Second) // the slow requests are in their handlers by now

	r := postGraphQL(t.ctx, newClient(40*time.Second), t.srv.base, gqlBody(viewerQuery, nil), adaToken, nil)
	t.reportReply(r)
	t.setWall(r.Wall)
	t.note("wall = the normal request's, sent 1 s after %d slow clients started", len(open))

	close(stop)
	for _, c := range open {
		closing.Store(c, true)
		c.Close()
	}
	var slow tally
	for range open {
		select {
		case o := <-outcomes:
			if strings.HasPrefix(o.label, "still open") {
				slow.add(o.label)
			} else {
				slow.add(fmt.Sprintf("%s after %.0f s", o.label, o.at.Seconds()))
			}
		case <-time.After(5 * time.Second):
			slow.add("no outcome")
		}
	}
	t.note("slow clients: %s", slow.String())
}

// F5: an ACCESS EXCLUSIVE lock on tasks held for 10 s; task lists pile up behind it, then an
// unrelated request and /readyz are timed.
func f5LockedTable(t *trial) {
	lctx, cancel := context.WithTimeout(t.ctx, 30*time.Second)
	defer cancel()
	lock := exec.CommandContext(lctx, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", pgHost, "-p", pgPort,
		"-U", "postgres", "-d", t.h.pgDB,
		"-c", "BEGIN; LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(10); COMMIT;")
	var lockOut bytes.Buffer
	lock.Stdout, lock.Stderr = &lockOut, &lockOut
	if err := lock.Start(); err != nil {
		t.res.Status = "not measured: psql: " + err.Error()
		return
	}
	lockDone := make(chan error, 1)
	go func() { lockDone <- lock.Wait() }()
	defer func() { // the lock's end is bounded by lctx (30 s)
		if err := <-lockDone; err != nil {
			t.note("psql holding the lock: %v %s", err, tailString(lockOut.String(), 200))
		}
	}()
	if !t.sleep(1 * time.Second) {
		return
	}

	type timed struct {
		r    reply
		what string
	}
	var wg sync.WaitGroup
	replies := make(chan timed, 12)
	for range 10 {
		wg.Go(func() {
			replies <- timed{t.post(gqlBody(`{ tasks(first:5){ nodes { id } } }`, nil), adaToken, nil), "tasks"}
		})
	}
	time.Sleep(100 * time.Millisecond) // the task lists first
	wg.Go(func() {
		replies <- timed{postGraphQL(t.ctx, t.client, t.srv.base, gqlBody(viewerQuery, nil), adaToken, nil), "viewer"}
	})
	wg.Go(func() { replies <- timed{get(t.ctx, t.client, t.srv.base+"/readyz"), "readyz"} })
	wg.Wait() // each request is bounded by --timeout
	close(replies)

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

// F6a: a NUL character in a search string (the GraphQL escape \u0000 in the document).
func f6aNUL(t *trial) {
	t.send(`{ users(filter: {search: "\u0000"}) { nodes { id } } }`, nil)
}

// F6b: a 100,000-character search string.
func f6bLongSearch(t *trial) {
	t.send(`{ users(filter: {search: "`+strings.Repeat("a", 100000)+`"}) { nodes { id } } }`, nil)
}

// F6c: 65,535 values in a list variable.
func f6cManyVariables(t *trial) {
	s := make([]string, 65535)
	for i := range s {
		s[i] = "OPEN"
	}
	t.send(`query($s:[TaskStatus!]){ tasks(filter:{status:$s}){ nodes { id } } }`, map[string]any{"s": s})
}

// F8a: introspection by a user whose access is not approved.
func f8aIntrospection(t *trial) {
	r := t.post(gqlBody(`{ __schema { types { name } } }`, nil), edToken, nil)
	t.reportReply(r)
	g, ok := r.gql()
	got := ok && g.hasData() && bytes.Contains(g.Data, []byte(`"types"`))
	t.note("schema data returned to the unapproved user: %s", yesNo(got))
	t.extra("introspection_data", got)
}

// F8b: field suggestions in a validation error.
func f8bSuggestions(t *trial) {
	r := t.send(`{ viewr { id } }`, nil)
	g, _ := r.gql()
	var msgs []string
	for _, e := range g.Errors {
		msgs = append(msgs, e.Message)
	}
	did := strings.Contains(strings.Join(msgs, "\n"), "Did you mean")
	t.note(`message contains "Did you mean": %s`, yesNo(did))
	t.extra("did_you_mean", did)
}

// F9a: a 10 MiB body, a valid JSON object whose query is padded with a comment.
func f9aHugeBody(t *trial) {
	prefix, suffix := `{"query":"{ viewer { id } } #`, `"}`
	body := prefix + strings.Repeat("a", 10<<20-len(prefix)-len(suffix)) + suffix
	r := t.post([]byte(body), adaToken, nil)
	t.reportReply(r)
}

// F9b: a malformed JSON body: is its text echoed back?
func f9bEcho(t *trial) {
	r := t.post([]byte(`{"query": "{ viewer { id } }", ECHO-MARKER-1234}`), adaToken, nil)
	t.reportReply(r)
	echo := bytes.Contains(r.Body, []byte("ECHO-MARKER-1234"))
	t.note("marker echoed in the response: %s", yesNo(echo))
	t.extra("marker_echoed", echo)
}

// F9c: batching, a JSON array of two operations.
func f9cBatch(t *trial) {
	op := `{"query":"{ viewer { id } }"}`
	t.reportReply(t.post([]byte("["+op+","+op+"]"), adaToken, nil))
}

// F10: 1,000 aliased assignUsers of an already-assigned user on the same task.
func f10AliasedMutations(t *trial) {
	ids := t.h.ids
	if ids.task == "" {
		t.res.Status = "not measured: no task with an assignee found"
		return
	}
	var b strings.Builder
	b.WriteString("mutation {")
	for i := range 1000 {
		fmt.Fprintf(&b, " m%d: assignUsers(taskId: %q, userIds: [%q]) { id }", i, ids.task, ids.assignee)
	}
	b.WriteString(" }")
	t.send(b.String(), nil)
	t.note("task %s, user %s", ids.task, ids.assignee)
}

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

// F12: is a hostile X-Request-Id echoed verbatim?
func f12RequestID(t *trial) {
	const id = "<script>alert(1)</script>"
	r := t.post(gqlBody(viewerQuery, nil), adaToken, http.Header{"X-Request-Id": {id}})
	t.reportReply(r)
	got := r.Header.Get("X-Request-Id")
	t.note("X-Request-Id echoed verbatim: %s (got `%s`)", yesNo(got == id), got)
	t.extra("request_id_echoed", got == id)
}

// F13: does the playground page carry a working token?
func f13PlaygroundToken(t *trial) {
	r := get(t.ctx, t.client, t.srv.base+"/")
	if r.Status == 0 {
		t.res.Status = r.label()
		return
	}
	t.res.Status = fmt.Sprintf("%d %s", r.Status, strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0]))
	found := ""
	for _, marker := range []string{"demo-", "Bearer "} {
		if i := bytes.Index(r.Body, []byte(marker)); i >= 0 {
			end := min(i+40, len(r.Body))
			if j := bytes.IndexAny(r.Body[i:end], "\"'<\n"); j >= 0 {
				end = i + j
			}
			found = string(r.Body[i:end])
			break
		}
	}
	t.note("HTML contains a token: %s", yesNo(found != ""))
	if found != "" {
		t.note("found `%s`", found)
	}
	t.extra("token_in_html", found != "")
}
