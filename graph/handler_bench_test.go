package graph_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taskql/taskql/bench/fixture"
	"github.com/taskql/taskql/graph"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
)

// The benchmarks of whole requests through the handler `taskql serve` serves, on the small fixture of
// bench/fixture (40 users, 500 tasks), on both databases, with the documents of the load
// benchmark (bench/wrk/graphql.lua; docs/PERFORMANCE.md):
//
//	go test -run '^$' -bench . -benchmem ./graph

const (
	benchPageQuery   = `query Page($p: ID!) { tasks(filter: {projectId: $p}, first: 50) { nodes { id label status phase { id name internal } assignees { id name email } } } }`
	benchTaskQuery   = `query Task($t: ID!) { task(id: $t) { id label assignees { id name email } } }`
	benchAssignQuery = `mutation Assign($t: ID!, $u: ID!) { a: assignUsers(taskId: $t, userIds: [$u]) { id assignees { id } } u: unassignUser(taskId: $t, userId: $u) { id assignees { id } } }`
)

// benchHandler runs a benchmark body on the handler over a fresh fixture in SQLite and in
// PostgreSQL, with the fast path (graph/fast.go) and through gqlgen alone. body returns the request
// body of the i-th request.
func benchHandler(b *testing.B, body func(w *fixture.World, i int) string) {
	testdb.Each(b, func(b *testing.B, st *store.Store) {
		w, err := fixture.Load(b.Context(), st, 40, 500)
		if err != nil {
			b.Fatal(err)
		}
		for _, path := range []struct {
			name string
			opts graph.Options
		}{{"fast", graph.Options{}}, {"gqlgen", graph.Options{GQLGenOnly: true}}} {
			b.Run(path.name, func(b *testing.B) {
				h := graph.NewServer(rules.New(st), path.opts)
				ctx, statements := store.CountStatements(b.Context())
				b.ReportAllocs()
				cpu := processCPU()
				i := 0
				for b.Loop() {
					req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/query", strings.NewReader(body(w, i)))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+fixture.Token)
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `"errors"`) {
						b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
					}
					i++
				}
				b.ReportMetric(float64(processCPU()-cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
				b.ReportMetric(float64(statements.Count())/float64(b.N), "statements/op")
			})
		}
	})
}

// processCPU is the CPU time this process has used so far, user and system: a request's CPU
// includes the goroutines it starts, which ns/op (wall time) does not tell apart from waiting.
func processCPU() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// BenchmarkHandlerPage is the page request: 50 tasks of a project with phase and assignees.
func BenchmarkHandlerPage(b *testing.B) {
	benchHandler(b, func(*fixture.World, int) string {
		return `{"query":"` + benchPageQuery + `","variables":{"p":"` + string(fixture.Project) + `"}}`
	})
}

// BenchmarkHandlerTask is the task request: one task with its assignees.
func BenchmarkHandlerTask(b *testing.B) {
	benchHandler(b, func(w *fixture.World, i int) string {
		return `{"query":"` + benchTaskQuery + `","variables":{"t":"` + string(w.Tasks[i%len(w.Tasks)]) + `"}}`
	})
}

// BenchmarkHandlerAssign is the assign request: assignUsers then unassignUser of a free user.
func BenchmarkHandlerAssign(b *testing.B) {
	benchHandler(b, func(w *fixture.World, i int) string {
		p := w.Free[i%len(w.Free)]
		return `{"query":"` + benchAssignQuery + `","variables":{"t":"` + string(p.Task) + `","u":"` + string(p.User) + `"}}`
	})
}

// BenchmarkLoaderWait is a page whose tasks' projects and assignees' companies come through the
// loaders (the relations a page does not read along), for several loader waits: the wait trades a
// request's latency (ns/op) for fewer statements when sibling lists resolve at different moments.
func BenchmarkLoaderWait(b *testing.B) {
	const nested = `query Nested($p: ID!) { tasks(filter: {projectId: $p}, first: 50) { nodes { id project { name } assignees { id company { name } } } } }`
	for _, wait := range []time.Duration{0, 250 * time.Microsecond, 500 * time.Microsecond, time.Millisecond, 2 * time.Millisecond} {
		b.Run(wait.String(), func(b *testing.B) {
			defer graph.SetLoaderWait(wait)()
			benchHandler(b, func(*fixture.World, int) string {
				return `{"query":"` + nested + `","variables":{"p":"` + string(fixture.Project) + `"}}`
			})
		})
	}
}
