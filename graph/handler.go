package graph

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/guard"
	"github.com/taskql/taskql/internal/rules"
)

// Options tune the HTTP API.
type Options struct {
	// Production mode (DESIGN §7): no playground, no introspection, no "Did you mean" suggestions.
	// Development mode, the default, has all three.
	Production bool
	// Limits bound what one request may ask; zero fields take DefaultLimits.
	Limits Limits
	// PlaygroundToken, when set, is pre-filled in the playground's Authorization header for as
	// long as it stays valid (the demo world's), in development mode only.
	PlaygroundToken string
	// MaxInFlight, when positive, is how many requests execute at once; the others wait their
	// turn until their deadline. Under overload this keeps latency even instead of letting every
	// request slow down together.
	MaxInFlight int
	// CORSOrigins are the browser origins (scheme://host[:port], or "*" for any) whose pages may
	// call the API; none means same-origin pages only.
	CORSOrigins []string
	// RatePerSecond and RateBurst limit the requests of each token (HTTP 429); 0 is no limit.
	RatePerSecond float64
	RateBurst     int
	// TrustedDocuments, when set, are the only operations that run; automatic persisted queries
	// then serve them by hash and register nothing new.
	TrustedDocuments *TrustedDocuments
}

// NewGraphQLHandler is the GraphQL endpoint, for requests that carry their viewer: explicit
// transports (POST, and GET for queries only), the cache of parsed documents, every limit of
// DESIGN §7, and the one error presenter. In development mode a viewer whose access is approved
// may introspect and is told "Did you mean …?"; anyone else is served by an executor without
// either.
func NewGraphQLHandler(svc *rules.Service, opts Options) http.Handler {
	limits := opts.Limits.orDefaults()
	docs := newDocumentCache(documentCacheBytes)
	apq := newTextCache(apqCacheBytes)
	closed := newExecutor(svc, opts, limits, docs, apq, false)
	open := closed
	if !opts.Production {
		open = newExecutor(svc, opts, limits, docs, apq, true)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := withPendingDocument(withLoaders(r.Context(), newLoaders(svc)))
		exec := closed
		if v := viewer(ctx); v != nil && v.IsAccessApproved {
			exec = open
		}
		exec.ServeHTTP(w, r.WithContext(ctx))
	})
}

// newExecutor builds one gqlgen server. The extensions run in the order they are used: the
// document is found (persisted queries), sized before it is parsed (documentLimits), then
// validated, then its complexity and introspection are checked, and only then cached (admit).
func newExecutor(svc *rules.Service, opts Options, limits Limits, docs *documentCache, apq *textCache, open bool) *handler.Server {
	srv := handler.New(NewExecutableSchema(Config{Resolvers: &Resolver{Rules: svc}, Complexity: complexity()}))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(queryOverGET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(docs)
	srv.SetParserTokenLimit(limits.Tokens)
	if !open {
		srv.SetDisableSuggestion(true)
		srv.SetValidationRulesFn(validationWithoutSuggestions)
	}
	if opts.TrustedDocuments != nil {
		srv.Use(trusted{docs: opts.TrustedDocuments})
	} else {
		srv.Use(extension.AutomaticPersistedQuery{Cache: apq})
	}
	srv.Use(documentLimits{limits: limits, cache: docs})
	srv.Use(extension.FixedComplexityLimit(limits.Complexity))
	srv.Use(introspectionGate{allowed: open})
	srv.Use(admit{cache: docs})
	srv.SetErrorPresenter(presentError)
	srv.SetRecoverFunc(recoverPanic)
	return srv
}

// Server is every route of taskql: the playground at / (development mode), the API at /query,
// liveness at /healthz and readiness at /readyz.
type Server struct {
	http.Handler
	draining atomic.Bool
}

// Drain makes /readyz answer 503 from now on, so that load balancers stop sending requests while
// the server finishes those it has.
func (s *Server) Drain() { s.draining.Store(true) }

// readyTimeout is how long /readyz waits for the database (DESIGN §8).
const readyTimeout = time.Second

// NewServer is every route of taskql. A request to the API is read whole first, then given its
// deadline and its turn among the requests executing at once, then authenticated, then rate
// limited, and only then parsed (DESIGN §7).
func NewServer(svc *rules.Service, opts Options) *Server {
	limits := opts.Limits.orDefaults()
	render := guard.Render(writeRefusal)
	rate := guard.NewRate(opts.RatePerSecond, opts.RateBurst)
	api := guard.ReadBody(limits.BodyBytes, render,
		checkBody(render,
			guard.Deadline(limits.Deadline,
				guard.Admission(opts.MaxInFlight, render,
					auth.Middleware(svc, refuse,
						rate.Middleware(bearerToken, render,
							NewGraphQLHandler(svc, opts)))))))
	s := &Server{}
	mux := http.NewServeMux()
	mux.Handle("/query", withCORS(opts.CORSOrigins, api))
	if !opts.Production {
		mux.Handle("GET /{$}", playgroundHandler(svc, opts.PlaygroundToken))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := svc.Ready(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.Handler = guard.WithRequestID(mux)
	return s
}

// bearerToken is the request's bearer token, the key of its rate limit.
func bearerToken(r *http.Request) string { return auth.BearerToken(r.Header.Get("Authorization")) }

// playgroundHandler serves GraphiQL, with the demo token pre-filled while it still works (it
// stops working when revoked, or when the database holds another world).
func playgroundHandler(svc *rules.Service, token string) http.Handler {
	bare := playground.Handler("taskql", "/query")
	if token == "" {
		return bare
	}
	filled := playground.Handler("taskql", "/query",
		playground.WithGraphiqlUiHeaders(map[string]string{"Authorization": "Bearer " + token}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := svc.Authenticate(r.Context(), token); err != nil {
			bare.ServeHTTP(w, r)
			return
		}
		filled.ServeHTTP(w, r)
	})
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
			h.Set("Access-Control-Expose-Headers", "X-Request-Id, WWW-Authenticate, Retry-After")
		}
		next.ServeHTTP(w, r)
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
