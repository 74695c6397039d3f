package rest_test

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/telemetry"
	"github.com/taskql/taskql/internal/testdb"
	"github.com/taskql/taskql/rest"
)

// DESIGN §8 for REST: every REST request writes one access line and is counted under its route's
// stable name (the document's path pattern, never the ids in it). The test sets the process's
// logger, so it is not parallel.
func TestRESTRequestsAreLoggedAndCountedByRoute(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		logs := &testdb.Output{}
		old := slog.Default()
		tel, err := telemetry.Setup(t.Context(), telemetry.Config{Production: true, Log: logs})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			slog.SetDefault(old)
			_ = tel.Shutdown(context.Background())
		})
		seedWorld(t, st)
		s := setup{tel: tel, rest: rest.Options{RatePerSecond: 0.01, RateBurst: 2}}
		s.graph.Metrics = promhttp.HandlerFor(tel.Registry, promhttp.HandlerOpts{})
		a := serveAPI(t, st, s)

		a.do(http.MethodGet, "/api/v1/steps/tsk_03logo/assignees", tokAda, nil).want(http.StatusOK, nil)
		a.assign(tokAda, "tsk_03logo", `{"user_ids": ["usr_nobody"]}`).want(http.StatusUnprocessableEntity, nil)
		a.do(http.MethodGet, "/api/v1/steps/tsk_01plan/assignees", tokAda, nil).want(http.StatusTooManyRequests, nil)
		a.unassign("", "tsk_03logo", "usr_bob").want(http.StatusUnauthorized, nil)
		a.do(http.MethodPut, "/v1/tasks/tsk_03logo/set-assignee", tokAda, nil).want(http.StatusMethodNotAllowed, nil)
		a.do(http.MethodGet, "/v1/nothing", tokAda, nil).want(http.StatusNotFound, nil)

		type line struct {
			Route, Viewer, Method string
			Status                float64
			Codes                 []any
		}
		var got []line
		for _, l := range logs.JSONLines("request") {
			v, _ := l["viewer"].(string)
			codes, _ := l["codes"].([]any)
			got = append(got, line{l["route"].(string), v, l["method"].(string), l["status"].(float64), codes})
			if id, _ := l["request_id"].(string); id == "" {
				t.Errorf("access line without request_id: %v", l)
			}
		}
		want := []line{
			{"/api/v1/steps/{step}/assignees", "usr_ada", "GET", 200, nil},
			{"/api/v1/steps/{step}/assignees", "usr_ada", "POST", 422, []any{"UNPROCESSABLE"}},
			{"/api/v1/steps/{step}/assignees", "", "GET", 429, []any{"RATE_LIMITED"}},
			{"/api/v1/steps/{step}/assignees/{user}", "", "DELETE", 401, []any{"UNAUTHENTICATED"}},
			{"/v1/tasks/{task_id}/set-assignee", "", "PUT", 405, []any{"BAD_USER_INPUT"}},
			{"other", "", "GET", 404, []any{"NOT_FOUND"}},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("access lines (-want +got):\n%s", diff)
		}

		wantCounted(t, a.do(http.MethodGet, "/metrics", "", nil).want(http.StatusOK, nil).Body)
	})
}

// wantCounted checks a scrape of /metrics after the requests of
// TestRESTRequestsAreLoggedAndCountedByRoute: each counted under its route and outcome.
func wantCounted(t *testing.T, metrics []byte) {
	t.Helper()
	for series, want := range map[string]string{
		`taskql_requests_total{code="OK",operation="",route="/api/v1/steps/{step}/assignees",type=""}`:                     "1",
		`taskql_requests_total{code="UNPROCESSABLE",operation="",route="/api/v1/steps/{step}/assignees",type=""}`:          "1",
		`taskql_requests_total{code="RATE_LIMITED",operation="",route="/api/v1/steps/{step}/assignees",type=""}`:           "1",
		`taskql_requests_total{code="UNAUTHENTICATED",operation="",route="/api/v1/steps/{step}/assignees/{user}",type=""}`: "1",
		`taskql_requests_total{code="BAD_USER_INPUT",operation="",route="/v1/tasks/{task_id}/set-assignee",type=""}`:       "1",
		`taskql_requests_total{code="NOT_FOUND",operation="",route="other",type=""}`:                                       "1",
		`taskql_refusals_total{limit="rate"}`: "1",
	} {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(metrics)
		if m == nil || string(m[1]) != want {
			t.Errorf("%s = %q, want %s", series, m, want)
		}
	}
}
