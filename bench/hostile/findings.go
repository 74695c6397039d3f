package main

// The findings of the security review, one function each: the table of them all, and the findings
// that are one request or a series of them. The findings that hold connections open or drop them
// (F3c, F4) are in findings_conn.go; those that lock or stop the database (F5, F11) in
// findings_db.go. A function sends its hostile request(s) through the trial and sets the result's
// status and notes; the harness measures around it.

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// finding is one entry of the review: what it sends, and the function that sends it.
type finding struct {
	id      string
	request string
	// skip, when it returns a reason, skips the finding without starting a server.
	skip func(cfg config) string
	// setup, when set, prepares what the finding needs and returns the database URL to run the
	// server on (F11's private cluster); cleanup runs after the server has stopped.
	setup func(ctx context.Context, h *harness) (dbURL string, cleanup func(), err error)
	run   func(t *trial)
}

// findings is the list of the review's findings, in the order they run.
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

// postgresOnly skips a finding unless it runs on PostgreSQL.
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

// repeatedIDQuery is F3a's and F3c's query: { viewer { id id … } }, id 20,000 times.
func repeatedIDQuery() string {
	return "{ viewer {" + strings.Repeat(" id", 20000) + " } }"
}

// F3a: one field repeated 20,000 times.
func f3aRepeatedField(t *trial) { t.send(repeatedIDQuery(), nil) }

// F3b: 10,000 fragment spreads.
func f3bFragmentSpreads(t *trial) {
	t.send("{ viewer {"+strings.Repeat(" ...F", 10000)+" } } fragment F on User { id }", nil)
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
