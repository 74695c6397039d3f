package graph_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/taskql/taskql/graph"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/telemetry"
	"github.com/taskql/taskql/internal/testdb"
)

// DESIGN §8: what an operator sees. These tests set the process's logger and tracer provider,
// so they are not parallel.

// observedAPI serves a seeded world with telemetry, its logs written to the returned buffer.
func observedAPI(t *testing.T, st *store.Store, c telemetry.Config) (*api, *telemetry.Telemetry, *testdb.Output) {
	t.Helper()
	logs := &testdb.Output{}
	c.Log = logs
	old := slog.Default()
	tel, err := telemetry.Setup(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		slog.SetDefault(old)
		_ = tel.Shutdown(context.Background())
	})
	seedWorld(t, st)
	svc := rules.New(st)
	o := graph.Options{Telemetry: tel, Metrics: promhttp.HandlerFor(tel.Registry, promhttp.HandlerOpts{})}
	return serveHandler(t, st, graph.NewServer(svc, o)), tel, logs
}

// Every request writes one access line with its request id, route, operation name and type,
// viewer, HTTP status, duration and error codes (JSON in production).
func TestEachRequestWritesOneAccessLine(t *testing.T) {
	a, _, logs := observedAPI(t, testdb.SQLite(t), telemetry.Config{Production: true})
	req := func(token, body, id string) {
		r, err := http.NewRequestWithContext(t.Context(), http.MethodPost, a.srv.URL+"/query", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-Request-Id", id)
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		a.send(r)
	}
	req(tokAda, `{"query": "query Me { viewer { id } }"}`, "req-1")
	req(tokAda, `{"query": "mutation Add { assignUsers(taskId: \"tsk_03logo\", userIds: [\"usr_zed\"]) { id } }"}`, "req-2")
	req("", `{"query": "{ viewer { id } }"}`, "req-3")
	got := logs.JSONLines("request")
	if len(got) != 3 {
		t.Fatalf("%d access lines for 3 requests:\n%v", len(got), got)
	}
	for i, want := range []map[string]any{
		{"request_id": "req-1", "route": "/query", "operation": "Me", "type": "query", "viewer": "usr_ada", "status": 200.0},
		{"request_id": "req-2", "route": "/query", "operation": "Add", "type": "mutation", "viewer": "usr_ada", "status": 200.0, "codes": []any{"UNPROCESSABLE"}},
		{"request_id": "req-3", "route": "/query", "status": 401.0, "codes": []any{"UNAUTHENTICATED"}},
	} {
		for k, v := range want {
			if g, _ := json.Marshal(got[i][k]); string(g) != mustJSON(t, v) {
				t.Errorf("line %d: %s = %s, want %s", i, k, g, mustJSON(t, v))
			}
		}
		if _, ok := got[i]["duration_ms"].(float64); !ok {
			t.Errorf("line %d has no duration_ms: %v", i, got[i])
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A scrape of /metrics after known traffic counts it: requests by route, operation and code,
// refusals by limit, the database pool, the subscriptions held.
func TestMetricsCountTheTraffic(t *testing.T) {
	st := testdb.SQLite(t)
	a, tel, _ := observedAPI(t, st, telemetry.Config{})
	db, err := st.Gorm().DB()
	if err != nil {
		t.Fatal(err)
	}
	tel.Metrics.Database(db)
	for range 3 {
		a.post(tokAda, `query Me { viewer { id } }`, nil).ok()
	}
	a.post("", `{ viewer { id } }`, nil)
	deep := "id"
	for range 10 {
		deep = "tasks(first: 1) { nodes { project { " + deep + " } } }"
	}
	a.post(tokAda, "{ "+deep+" }", nil)
	body := a.send(getReq(t, a.srv.URL+"/metrics")).Body
	for series, want := range map[string]float64{
		`taskql_requests_total{code="OK",operation="Me",route="/query",type="query"}`:                 3,
		`taskql_requests_total{code="UNAUTHENTICATED",operation="",route="/query",type=""}`:           1,
		`taskql_requests_total{code="GRAPHQL_VALIDATION_FAILED",operation="",route="/query",type=""}`: 1,
		`taskql_refusals_total{limit="depth"}`:                                                        1,
		`taskql_request_duration_seconds_count{route="/query",type="query"}`:                          3,
	} {
		if got := sample(t, body, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if !strings.Contains(string(body), `go_sql_open_connections{db_name="taskql"}`) {
		t.Error("no series of the database pool")
	}
}

// sample reads one series of a Prometheus text exposition, -1 when absent.
func sample(t *testing.T, body []byte, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A mutation's trace continues the caller's (traceparent) and nests as the code does: the HTTP
// request, the GraphQL operation, the rules' use case, and its SQL statements.
func TestAMutationsTraceNestsOperationRulesAndStatements(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	url := testdb.PostgresURL(t)
	st, err := store.Open(t.Context(), url, store.WithTracing())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	old := otel.GetTracerProvider()
	t.Cleanup(func() { otel.SetTracerProvider(old) })
	a, _, _ := observedAPI(t, st, telemetry.Config{Exporter: exp})
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	body := `{"query": "mutation { assignUsers(taskId: \"tsk_03logo\", userIds: [\"usr_ada\"]) { id assignees { id } } }"}`
	r, err := http.NewRequestWithContext(t.Context(), http.MethodPost, a.srv.URL+"/query", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+tokAda)
	r.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	a.send(r).ok()

	spans := map[string]tracetest.SpanStub{}
	var names []string
	for _, s := range exp.GetSpans() {
		if s.SpanContext.TraceID().String() == traceID {
			spans[s.SpanContext.SpanID().String()] = s
			names = append(names, s.Name)
		}
	}
	parentOf := func(s tracetest.SpanStub) string { return spans[s.Parent.SpanID().String()].Name }
	var http, op, change tracetest.SpanStub
	var statements int
	for _, s := range spans {
		switch {
		case s.Name == "POST /query":
			http = s
		case s.Name == "graphql.mutation":
			op = s
		case s.Name == "rules.change":
			change = s
		}
	}
	for _, s := range spans {
		if parentOf(s) == "rules.change" {
			statements++
		}
	}
	if http.Name == "" || op.Name == "" || change.Name == "" {
		t.Fatalf("spans of the trace: %v; want POST /query, graphql.mutation, rules.change", names)
	}
	if parentOf(op) != http.Name || parentOf(change) != op.Name {
		t.Errorf("graphql.mutation under %q, rules.change under %q; want them nested under the request", parentOf(op), parentOf(change))
	}
	for _, s := range exp.GetSpans() {
		if s.SpanContext.TraceID().String() == traceID {
			var attrs []string
			for _, kv := range s.Attributes {
				if k := string(kv.Key); k == "db.statement" || k == "graphql.operation.type" || k == "http.response.status_code" {
					attrs = append(attrs, k+"="+truncate(kv.Value.Emit(), 70))
				}
			}
			t.Logf("span %s %q under %q (%s) %v", s.SpanContext.SpanID(), s.Name, parentOf(s), s.EndTime.Sub(s.StartTime).Round(time.Microsecond), attrs)
		}
	}
	if statements < 3 { // lock the task, read the candidates and the assignees, write
		t.Errorf("%d statements under rules.change, want the transaction's; spans: %v", statements, names)
	}
}

// truncate shortens s to at most n runes, marking the cut.
func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
