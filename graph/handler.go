package graph

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/rules"
)

// Options tune the HTTP API.
type Options struct {
	// ComplexityLimit refuses a query whose complexity exceeds it (COMPLEXITY_LIMIT_EXCEEDED).
	ComplexityLimit int
	// PlaygroundToken, when set, is pre-filled in the playground's Authorization header (demo data).
	PlaygroundToken string
	// MaxInFlight, when positive, is how many GraphQL requests execute at once; the others wait
	// their turn (or their client's patience). Under overload this keeps latency even instead of
	// letting every request slow down together.
	MaxInFlight int
	// CORSOrigins are the browser origins (scheme://host[:port], or "*" for any) whose pages may
	// call the API; none means same-origin pages only.
	CORSOrigins []string
}

// maxRequestBytes bounds a request's body: a GraphQL document with its variables is far smaller.
const maxRequestBytes = 1 << 20

// DefaultComplexityLimit bounds the work one query may ask for.
const DefaultComplexityLimit = 2000

// NewGraphQLHandler is the GraphQL endpoint: explicit transports (POST, and GET for queries only),
// a cache of parsed documents, the complexity limit, and the one error presenter.
func NewGraphQLHandler(svc *rules.Service, opts Options) http.Handler {
	srv := handler.New(NewExecutableSchema(Config{Resolvers: &Resolver{Rules: svc}}))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	limit := opts.ComplexityLimit
	if limit == 0 {
		limit = DefaultComplexityLimit
	}
	srv.Use(extension.FixedComplexityLimit(limit))
	srv.SetErrorPresenter(presentError)
	srv.SetRecoverFunc(recoverPanic)
	return srv
}

// NewServer is every route of taskql: the playground at /, the API at /query, liveness at /healthz
// and readiness (the database answers) at /readyz.
func NewServer(svc *rules.Service, opts Options) http.Handler {
	gql := NewGraphQLHandler(svc, opts)
	api := limitInFlight(opts.MaxInFlight, auth.Middleware(svc, refuse, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gql.ServeHTTP(w, r.WithContext(withLoaders(r.Context(), newLoaders(svc))))
	})))
	var pgOpts []playground.GraphiqlConfigOption
	if opts.PlaygroundToken != "" {
		pgOpts = append(pgOpts, playground.WithGraphiqlUiHeaders(map[string]string{"Authorization": "Bearer " + opts.PlaygroundToken}))
	}
	mux := http.NewServeMux()
	mux.Handle("/query", withCORS(opts.CORSOrigins, http.MaxBytesHandler(api, maxRequestBytes)))
	mux.Handle("GET /{$}", playground.Handler("taskql", "/query", pgOpts...))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := svc.Ready(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	return withRequestID(mux)
}

// withCORS lets pages of the allowed origins call the API from a browser. A preflight carries no
// token, so it is answered here, before authentication.
func withCORS(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		h := w.Header()
		h.Add("Vary", "Origin")
		if origin != "" && (slices.Contains(origins, "*") || slices.Contains(origins, origin)) {
			h.Set("Access-Control-Allow-Origin", origin)
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
			h.Set("Access-Control-Expose-Headers", "X-Request-Id, WWW-Authenticate")
		}
		next.ServeHTTP(w, r)
	})
}

// limitInFlight lets at most n requests through at once; n <= 0 is no limit.
func limitInFlight(n int, next http.Handler) http.Handler {
	if n <= 0 {
		return next
	}
	slots := make(chan struct{}, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
		case <-r.Context().Done():
			return
		}
		defer func() { <-slots }()
		next.ServeHTTP(w, r)
	})
}

type requestIDKey struct{}

// RequestID is the id of the request, also sent as X-Request-Id, that logs of its errors carry.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// withRequestID gives every request an id: the caller's X-Request-Id when sane, else a new one.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			id = rand.Text()
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body)
}

func writeErrors(w http.ResponseWriter, status int, errs gqlerror.List) {
	writeJSON(w, status, map[string]any{"errors": errs, "data": nil})
}
