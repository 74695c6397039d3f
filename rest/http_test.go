package rest_test

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/taskql/taskql/rest"
)

// The wire facts of DESIGN §9 that every endpoint shares: authentication, visibility, methods,
// unknown paths and the limits of §7, each answered in the one error shape.

// endpoint is one of the four endpoints, on a task, with a body that would otherwise succeed (or
// be refused by a rule).
type endpoint struct {
	name, method, path, body string
}

func endpoints(task string) []endpoint {
	return []endpoint{
		{"set-assignee", http.MethodPost, "/v1/tasks/" + task + "/set-assignee", `{"assignee": "usr_nobody"}`},
		{"list", http.MethodGet, "/api/v1/steps/" + task + "/assignees", ""},
		{"assign", http.MethodPost, "/api/v1/steps/" + task + "/assignees", `{"user_ids": ["usr_nobody", "usr_gus"]}`},
		{"unassign", http.MethodDelete, "/api/v1/steps/" + task + "/assignees/usr_bob", ""},
	}
}

func (a *api) call(e endpoint, token string) *response {
	a.t.Helper()
	var body any
	if e.body != "" {
		body = jsonBody(e.body)
	}
	return a.do(e.method, e.path, token, body)
}

// A missing, unknown or revoked token is 401 with WWW-Authenticate: Bearer, whatever the task;
// a viewer whose access is not approved is 403 FORBIDDEN.
func TestAuthentication(t *testing.T) {
	eachDB(t, setup{}, func(t *testing.T, a *api) {
		for _, e := range endpoints("tsk_03logo") {
			for _, token := range []string{"", "no-such-token", tokFay} {
				r := a.call(e, token)
				r.wantError(http.StatusUnauthorized, "UNAUTHENTICATED")
				if got := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("%s with %q: WWW-Authenticate %q", e.name, token, got)
				}
			}
			a.call(e, tokEve).wantError(http.StatusForbidden, "FORBIDDEN")
		}
		wantIDs(t, "unchanged", a.assigneeIDs(tokAda, "tsk_03logo"), []string{"usr_bob", "usr_cat"})
	})
}

// A task the viewer cannot see is 404, never 403 and never 422, before any user is looked at:
// a task of another organization, a task in an internal phase for a client member, a task of a
// project the viewer is not a member of, a task that does not exist.
func TestInvisibleTasksAre404(t *testing.T) {
	eachDB(t, setup{}, func(t *testing.T, a *api) {
		cases := []struct{ who, token, task string }{
			{"another organization's viewer", tokZed, "tsk_03logo"},
			{"Acme's viewer on Beta's task", tokAda, "tsk_beta"},
			{"a client member on an internal phase", tokCat, "tsk_01plan"},
			{"a viewer outside the project", tokDan, "tsk_03logo"},
			{"anyone on a task that does not exist", tokAdmin, "tsk_nothere"},
		}
		for _, c := range cases {
			for _, e := range endpoints(c.task) {
				if e := a.call(e, c.token).wantError(http.StatusNotFound, "NOT_FOUND"); strings.Contains(e.Message, "usr_") {
					t.Errorf("%s: %q names a user: users were looked at", c.who, e.Message)
				}
			}
		}
		wantIDs(t, "beta unchanged", a.assigneeIDs(tokZed, "tsk_beta"), []string{"usr_zed"})
		wantIDs(t, "plan unchanged", a.assigneeIDs(tokAdmin, "tsk_01plan"), []string{"usr_ada"})
	})
}

// A method a path does not serve is 405 with Allow, in the error shape, before the token is
// checked (it reveals nothing and costs nothing); an unknown path is 404.
func TestMethodsAndPaths(t *testing.T) {
	eachDB(t, setup{}, func(t *testing.T, a *api) {
		cases := []struct{ path, allow string }{
			{"/v1/tasks/tsk_03logo/set-assignee", "POST"},
			{"/api/v1/steps/tsk_03logo/assignees", "GET, HEAD, POST"},
			{"/api/v1/steps/tsk_03logo/assignees/usr_bob", "DELETE"},
			{"/openapi.json", "GET, HEAD"},
		}
		for _, c := range cases {
			for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
				if strings.Contains(c.allow, method) {
					continue
				}
				r := a.do(method, c.path, "", nil)
				r.wantError(http.StatusMethodNotAllowed, "BAD_USER_INPUT")
				if got := r.Header.Get("Allow"); got != c.allow {
					t.Errorf("%s %s: Allow %q, want %q", method, c.path, got, c.allow)
				}
			}
		}
		for _, path := range []string{"/v1/tasks/tsk_03logo", "/v1/", "/api/v1/steps/tsk_03logo/assignees/usr_bob/x", "/api/v1/tasks"} {
			a.do(http.MethodGet, path, tokAda, nil).wantError(http.StatusNotFound, "NOT_FOUND")
		}
		wantIDs(t, "unchanged", a.assigneeIDs(tokAda, "tsk_03logo"), []string{"usr_bob", "usr_cat"})
	})
}

// DESIGN §7: a body larger than the limit is 413, before the token is checked and before anything
// runs; the default limit is 1 MiB.
func TestBodyLimitIs413(t *testing.T) {
	eachDB(t, setup{rest: rest.Options{BodyBytes: 64}}, func(t *testing.T, a *api) {
		big := `{"user_ids": ["usr_ada"], "padding": "` + strings.Repeat("x", 64) + `"}`
		a.assign(tokAda, "tsk_03logo", big).wantError(http.StatusRequestEntityTooLarge, "BAD_USER_INPUT")
		a.setAssignee("", "tsk_03logo", big).wantError(http.StatusRequestEntityTooLarge, "BAD_USER_INPUT")
		a.assign(tokAda, "tsk_03logo", `{"user_ids": ["usr_ada"]}`).want(http.StatusCreated, nil)
	})
	t.Run("default", func(t *testing.T) {
		eachDB(t, setup{}, func(t *testing.T, a *api) {
			huge := `{"user_ids": ["usr_ada"], "padding": "` + strings.Repeat("x", 1<<20) + `"}`
			a.assign(tokAda, "tsk_03logo", huge).wantError(http.StatusRequestEntityTooLarge, "BAD_USER_INPUT")
			wantIDs(t, "unchanged", a.assigneeIDs(tokAda, "tsk_03logo"), []string{"usr_bob", "usr_cat"})
		})
	})
}

// DESIGN §7: past its rate a token is 429 RATE_LIMITED with Retry-After, across the REST
// endpoints; another token keeps its own bucket.
func TestRateLimitIs429(t *testing.T) {
	eachDB(t, setup{rest: rest.Options{RatePerSecond: 0.01, RateBurst: 2}}, func(t *testing.T, a *api) {
		a.do(http.MethodGet, "/api/v1/steps/tsk_03logo/assignees", tokAda, nil).want(http.StatusOK, nil)
		a.assign(tokAda, "tsk_03logo", `{"user_ids": ["usr_ada"]}`).want(http.StatusCreated, nil)
		r := a.unassign(tokAda, "tsk_03logo", "usr_ada")
		r.wantError(http.StatusTooManyRequests, "RATE_LIMITED")
		if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
			t.Errorf("Retry-After %q, want whole seconds", r.Header.Get("Retry-After"))
		}
		wantIDs(t, "the refused DELETE changed nothing", a.assigneeIDs(tokAdmin, "tsk_03logo"), []string{"usr_bob", "usr_cat", "usr_ada"})
	})
}

// DESIGN §7: a request past its deadline is 503 UNAVAILABLE with Retry-After: safe to retry.
func TestPastTheDeadlineIs503(t *testing.T) {
	eachDB(t, setup{rest: rest.Options{Deadline: time.Nanosecond}}, func(t *testing.T, a *api) {
		for _, e := range endpoints("tsk_03logo") {
			r := a.call(e, tokAda)
			r.wantError(http.StatusServiceUnavailable, "UNAVAILABLE")
			if r.Header.Get("Retry-After") == "" {
				t.Errorf("%s: 503 without Retry-After", e.name)
			}
		}
	})
}

// The document is served at /openapi.json to anyone, as committed; a REST answer carries its
// request id (the client's when sane); the GraphQL routes are still served beside REST.
func TestTheServerAroundTheEndpoints(t *testing.T) {
	eachDB(t, setup{}, func(t *testing.T, a *api) {
		r := a.do(http.MethodGet, "/openapi.json", "", nil).want(http.StatusOK, nil)
		if !bytes.Equal(r.Body, rest.OpenAPI) || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("/openapi.json: %s, %d bytes, want the embedded document", r.Header.Get("Content-Type"), len(r.Body))
		}
		for id, want := range map[string]bool{"client-id.1": true, "bad id with spaces": false} {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, a.srv.URL+"/api/v1/steps/tsk_03logo/assignees", nil)
			req.Header.Set("Authorization", "Bearer "+tokAda)
			req.Header.Set("X-Request-Id", id)
			got := a.send(req).want(http.StatusOK, nil).Header.Get("X-Request-Id")
			if (got == id) != want || got == "" {
				t.Errorf("X-Request-Id %q sent, %q answered", id, got)
			}
		}
		a.graphql(tokAda, `{ viewer { id } }`, nil)
		if r := a.do(http.MethodGet, "/healthz", "", nil); r.Status != http.StatusOK {
			t.Errorf("/healthz: %d", r.Status)
		}
	})
}
