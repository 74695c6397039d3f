// Package rest is taskql's second adapter (DESIGN §9): it serves the two REST documents of
// seeds/ as they are written — POST /v1/tasks/{task_id}/set-assignee, and GET, POST and DELETE
// on /api/v1/steps/{step}/assignees — beside the GraphQL adapter, on the same port, with the same
// tokens and through the same rules, so both APIs see and change the same data and record the
// same events. Each endpoint parses its request, calls one rules method and renders the result in
// the documents' shapes; the rules decide everything. It also serves the OpenAPI 3.1 document of
// these endpoints at /openapi.json.
package rest

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/guard"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/telemetry"
	"github.com/taskql/taskql/model"
)

// Options tune the REST adapter. Zero fields take DESIGN §7's defaults, the GraphQL API's.
type Options struct {
	// BodyBytes bounds a request's body (HTTP 413); default 1 MiB.
	BodyBytes int64
	// Deadline bounds how long a request may run, waiting for its turn included (503
	// UNAVAILABLE); default 10 s.
	Deadline time.Duration
	// MaxInFlight, when positive, is how many REST requests execute at once; the others wait
	// their turn until their deadline.
	MaxInFlight int
	// RatePerSecond and RateBurst limit the requests of each token (HTTP 429); 0 is no limit.
	RatePerSecond float64
	RateBurst     int
}

// The defaults of Options (DESIGN §7).
const (
	DefaultBodyBytes = 1 << 20
	DefaultDeadline  = 10 * time.Second
)

// The routes, as the documents write them: their patterns are also the stable names under which
// REST requests are logged and counted (Route).
const (
	RouteSetAssignee = "/v1/tasks/{task_id}/set-assignee"
	RouteAssignees   = "/api/v1/steps/{step}/assignees"
	RouteAssignee    = "/api/v1/steps/{step}/assignees/{user}"
	RouteOpenAPI     = "/openapi.json"
)

// named matches a request to its route's pattern, for Route. It holds the same patterns as the
// handler's mux, without handlers.
var named = func() *http.ServeMux {
	mux := http.NewServeMux()
	for _, p := range []string{RouteSetAssignee, RouteAssignees, RouteAssignee, RouteOpenAPI} {
		mux.Handle(p, http.NotFoundHandler())
	}
	return mux
}()

// Route names a REST request's route for the access log and the metrics (telemetry.Observe): one
// of the Route constants, or "other" for a path no endpoint serves. Ids in the path never make a
// name of their own, so the metrics' series stay few.
func Route(r *http.Request) string {
	if _, pattern := named.Handler(r); pattern != "" {
		return pattern
	}
	return "other"
}

// handler serves the REST endpoints. Each request passes, in order: its route and method (404,
// 405), its body read whole and bounded (413), its parsing (415, 400), then, like a GraphQL
// request, its deadline and its turn, its token (401) and its token's rate (429), and only then
// the rules. The first checks need no database and reveal nothing, so they come before the token.
type handler struct {
	svc       *rules.Service
	bodyBytes int64
	// guarded runs a parsed call past the deadline, admission, authentication and rate guards.
	guarded http.Handler
}

// NewHandler is the REST adapter's handler over the rules. The server that mounts it applies
// request ids and the access log (guard.WithRequestID, telemetry.Observe with Route), as it does
// for the GraphQL API.
func NewHandler(svc *rules.Service, o Options) http.Handler {
	if o.BodyBytes <= 0 {
		o.BodyBytes = DefaultBodyBytes
	}
	if o.Deadline <= 0 {
		o.Deadline = DefaultDeadline
	}
	h := &handler{svc: svc, bodyBytes: o.BodyBytes}
	render := guard.Render(writeRefusal)
	rate := guard.NewRate(o.RatePerSecond, o.RateBurst)
	h.guarded = guard.Deadline(o.Deadline, guard.Admission(o.MaxInFlight, render,
		auth.Middleware(svc, writeFailure, rate.Middleware(bearerToken, render, http.HandlerFunc(h.execute)))))

	mux := http.NewServeMux()
	mux.Handle(RouteSetAssignee, methods{http.MethodPost: h.endpoint(h.setAssignee)})
	mux.Handle(RouteAssignees, methods{http.MethodGet: h.endpoint(h.listAssignees), http.MethodPost: h.endpoint(h.assignUsers)})
	mux.Handle(RouteAssignee, methods{http.MethodDelete: h.endpoint(h.unassignUser)})
	mux.Handle(RouteOpenAPI, methods{http.MethodGet: http.HandlerFunc(serveOpenAPI)})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, http.StatusNotFound, errorBody{Code: guard.CodeNotFound, Message: "no endpoint at this path"})
	})
	return mux
}

// bearerToken is the request's bearer token, the key of its rate limit.
func bearerToken(r *http.Request) string { return auth.BearerToken(r.Header.Get("Authorization")) }

// methods serves a path by method: another method is 405 with Allow, in the error shape (the
// mux's own 405 is plain text). HEAD is served as GET (net/http sends no body).
type methods map[string]http.Handler

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	if h, ok := m[method]; ok {
		h.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Allow", m.allow())
	writeError(w, r, http.StatusMethodNotAllowed, errorBody{Code: guard.CodeBadUserInput,
		Message: "this path serves " + m.allow() + " only"})
}

// allow lists the methods served, sorted, as the Allow header wants them.
func (m methods) allow() string {
	var out []string
	for method := range m {
		out = append(out, method)
		if method == http.MethodGet {
			out = append(out, http.MethodHead)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// reply is what a call answers: a status, a body (nil: no body), and the version of the task
// it is about, sent as its ETag (none when empty).
type reply struct {
	status int
	body   any
	etag   string
}

// call runs a parsed request for its viewer: one rules method, and the reads that render it.
type call func(ctx context.Context, v *model.Viewer) (reply, error)

// parser reads a request into its call, or says why it is malformed (model.InputError, or an
// errorBody with a status of its own such as 415).
type parser func(r *http.Request) (call, error)

type callKey struct{}

// endpoint serves one method of one route: the body is read whole and bounded, then parsed; a
// well-formed request goes on through the guards to execute.
func (h *handler) endpoint(parse parser) http.Handler {
	return guard.ReadBody(h.bodyBytes, writeRefusal, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := parse(r)
		if err != nil {
			writeFailure(w, r, err)
			return
		}
		h.guarded.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callKey{}, c)))
	}))
}

// execute runs the request's call for the viewer the guards found, and renders its answer.
func (h *handler) execute(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := auth.ViewerFrom(ctx)
	telemetry.RecordOf(ctx).Viewer(string(v.ID))
	c, _ := ctx.Value(callKey{}).(call)
	rep, err := c(ctx, v)
	if err != nil {
		writeFailure(w, r, err)
		return
	}
	if rep.etag != "" {
		w.Header().Set("ETag", etag(rep.etag))
	}
	if rep.body == nil {
		w.WriteHeader(rep.status)
		return
	}
	writeJSON(w, rep.status, rep.body)
}
