package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/taskql/taskql/graph"
	"github.com/taskql/taskql/internal/pubsub"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/telemetry"
	"github.com/taskql/taskql/internal/testdb"
	"github.com/taskql/taskql/rest"
)

// api is taskql's HTTP API composed as serve composes it: the REST adapter mounted beside the
// GraphQL server on one port. Its client checks every REST response against openapi.json.
type api struct {
	t   *testing.T
	st  *store.Store
	svc *rules.Service
	srv *httptest.Server
	// client validates each REST response against the OpenAPI document (validate_test.go).
	client *http.Client
}

// setup is how a test's API is built; the zero value is serve's defaults in development.
type setup struct {
	rest  rest.Options
	graph graph.Options
	rules []rules.Option
	tel   *telemetry.Telemetry
	// live delivers changes to subscriptions: an in-process bus and the delivery loop.
	live bool
}

// serveAPI serves st as it is.
func serveAPI(t *testing.T, st *store.Store, s setup) *api {
	t.Helper()
	var bus *pubsub.Local
	if s.live {
		bus = pubsub.NewLocal()
		t.Cleanup(func() { _ = bus.Close() })
		s.rules = append(s.rules, rules.WithBus(bus))
	}
	svc := rules.New(st, s.rules...)
	if s.live {
		go svc.Deliver(context.Background())
	}
	s.graph.Telemetry = s.tel
	h := rest.Mount(rest.NewHandler(svc, s.rest), s.tel, graph.NewServer(svc, s.graph))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: &validating{t: t, base: srv.Client().Transport}}
	return &api{t: t, st: st, svc: svc, srv: srv, client: client}
}

// eachDB runs body on a fresh, seeded database of every engine, in parallel with other tests.
func eachDB(t *testing.T, s setup, body func(t *testing.T, a *api)) {
	t.Helper()
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		seedWorld(t, st)
		body(t, serveAPI(t, st, s))
	})
}

// response is one HTTP answer.
type response struct {
	t      *testing.T
	Status int
	Header http.Header
	Body   []byte
}

// jsonBody marks a request body to be sent as application/json; any other string is sent as
// text/plain.
type jsonBody string

// do sends a request with the token (none when empty) and a body: nil, a jsonBody, or a string
// sent as text/plain.
func (a *api) do(method, path, token string, body any) *response {
	a.t.Helper()
	return a.doIf(method, path, token, body, "")
}

// doIf is do with an If-Match header, unless ifMatch is empty.
func (a *api) doIf(method, path, token string, body any, ifMatch string) *response {
	a.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case jsonBody:
		rd, ct = strings.NewReader(string(b)), "application/json"
	case string:
		rd, ct = strings.NewReader(b), "text/plain"
	}
	req, err := http.NewRequestWithContext(a.t.Context(), method, a.srv.URL+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Accept", "application/json")
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return a.send(req)
}

// send sends any request and reads its answer.
func (a *api) send(req *http.Request) *response {
	a.t.Helper()
	res, err := a.client.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return &response{t: a.t, Status: res.StatusCode, Header: res.Header, Body: body}
}

// want asserts the status and decodes the JSON body into into (when not nil).
func (r *response) want(status int, into any) *response {
	r.t.Helper()
	if r.Status != status {
		r.t.Fatalf("status %d, want %d; body:\n%s", r.Status, status, r.Body)
	}
	if into != nil {
		if err := json.Unmarshal(r.Body, into); err != nil {
			r.t.Fatalf("body is not the JSON expected: %v\n%s", err, r.Body)
		}
	}
	return r
}

// apiError is the REST error shape.
type apiError struct {
	Message    string   `json:"message"`
	Code       string   `json:"code"`
	UserIDs    []string `json:"user_ids"`
	Violations []struct {
		UserID string `json:"user_id"`
		Reason string `json:"reason"`
	} `json:"violations"`
	Version string `json:"version"`
}

// wantError asserts an error answer of this status and code, and returns it.
func (r *response) wantError(status int, code string) apiError {
	r.t.Helper()
	var e apiError
	r.want(status, &e)
	if e.Code != code || e.Message == "" {
		r.t.Fatalf("error %+v, want code %s with a message", e, code)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		r.t.Errorf("Content-Type %q, want application/json", ct)
	}
	return e
}

// assignee is the second document's assignee object, as decoded.
type assignee struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	FirstName string  `json:"first_name"`
	LastName  string  `json:"last_name"`
	Email     string  `json:"email"`
	Avatar    *string `json:"avatar"`
}

// assigneeIDs lists the ids of a task's assignees by GET, in order.
func (a *api) assigneeIDs(token, task string) []string {
	a.t.Helper()
	var got []assignee
	a.do(http.MethodGet, "/api/v1/steps/"+task+"/assignees", token, nil).want(http.StatusOK, &got)
	return idsOf(got)
}

func idsOf(as []assignee) []string {
	out := []string{}
	for _, u := range as {
		out = append(out, u.ID)
	}
	return out
}

// wantIDs compares lists of ids.
func wantIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

// graphql posts a GraphQL request to /query on the same server and returns its data.
func (a *api) graphql(token, query string, vars map[string]any) json.RawMessage {
	a.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		a.t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(a.t.Context(), http.MethodPost, a.srv.URL+"/query", bytes.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	r := a.send(req)
	var out struct {
		Data   json.RawMessage   `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	r.want(http.StatusOK, &out)
	if len(out.Errors) > 0 {
		a.t.Fatalf("GraphQL errors: %s", r.Body)
	}
	return out.Data
}
