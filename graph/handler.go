package graph

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/rs/cors"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vikstrous/dataloadgen"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/guard"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/telemetry"
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
	// DemoTokens, in development mode, are offered on the board's sign-in (/app) for as long as
	// each authenticates.
	DemoTokens []DemoToken
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
	// Telemetry, when set, writes an access line and counts each request, and traces it when
	// traces are exported (DESIGN §8).
	Telemetry *telemetry.Telemetry
	// Metrics, when set, is served at /metrics (development mode: production serves metrics on
	// an address of their own).
	Metrics http.Handler
	// GQLGenOnly turns the fast path off (graph/fast.go): every operation runs through gqlgen's
	// executor. The answers are the same; the differential test compares them.
	GQLGenOnly bool
}

// graphQL is the GraphQL endpoint, for requests that carry their viewer (WebSocket connections
// find theirs in connection_init): explicit transports (POST, GET for queries only, WebSocket and
// server-sent events for subscriptions), the cache of parsed documents, every limit of DESIGN §7,
// and the one error presenter. In development mode a viewer whose access is approved may
// introspect and is told "Did you mean …?"; anyone else, and every WebSocket connection (whose
// viewer is not known when it opens), is served by an executor without either.
type graphQL struct {
	svc          *rules.Service
	open, closed *handler.Server
	sockets      *sockets
	// fast counts the operations the fast path answered (graph/fast.go); tests read it.
	fast atomic.Int64
}

func newGraphQL(svc *rules.Service, opts Options, limits Limits) *graphQL {
	g := &graphQL{svc: svc, sockets: newSockets(opts.CORSOrigins, limits.WebSocketMessage)}
	r := &Resolver{Rules: svc, subscriptions: newSubscriptionLimits(limits.SubscriptionsPerConnection, limits.SubscriptionsPerToken)}
	docs := newDocumentCache(documentCacheBytes)
	apq := newTextCache(apqCacheBytes)
	var es graphql.ExecutableSchema = NewExecutableSchema(Config{Resolvers: r, Complexity: complexity()})
	if !opts.GQLGenOnly {
		es = fastSchema{executableSchema: es.(*executableSchema), plans: newPlans(), served: &g.fast}
	}
	g.closed = newExecutor(es, opts, limits, docs, apq, false)
	g.closed.AddTransport(transport.Websocket{
		Implementation:        g.sockets,
		InitFunc:              connectionInit(svc),
		KeepAlivePingInterval: keepAlive, // graphql-ws
		PingPongInterval:      keepAlive, // graphql-transport-ws
		MissingPongOk:         true,
	})
	g.open = g.closed
	if !opts.Production {
		g.open = newExecutor(es, opts, limits, docs, apq, true)
	}
	return g
}

func (g *graphQL) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var opts []dataloadgen.Option
	if streaming(r) {
		// A subscription's fields are read anew for each change: nothing is kept between them.
		opts = append(opts, dataloadgen.WithoutCache())
	}
	ctx := withPendingDocument(withLoaders(r.Context(), g.svc, opts...))
	exec := g.closed
	v := viewer(ctx)
	if v != nil {
		telemetry.RecordOf(ctx).Viewer(string(v.ID))
		if v.IsAccessApproved {
			exec = g.open
		}
	}
	exec.ServeHTTP(w, r.WithContext(ctx))
}

// newExecutor builds one gqlgen server. The extensions run in the order they are used: the
// document is found (persisted queries), sized before it is parsed (documentLimits), then
// validated, then its complexity and introspection are checked, and only then cached (admit).
func newExecutor(es graphql.ExecutableSchema, opts Options, limits Limits, docs *documentCache, apq *textCache, open bool) *handler.Server {
	srv := handler.New(es)
	srv.AddTransport(transport.Options{})
	srv.AddTransport(queryOverGET{})
	srv.AddTransport(transport.SSE{KeepAlivePingInterval: keepAlive})
	srv.AddTransport(operationOverPOST{})
	srv.Use(observer{})
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

// streaming tells whether a request opens a stream: a WebSocket, or server-sent events.
func streaming(r *http.Request) bool { return isWebSocket(r) || isEventStream(r) }

func isWebSocket(r *http.Request) bool { return r.Header.Get("Upgrade") != "" }

func isEventStream(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// Server is every route of taskql: the playground at / (development mode), the API at /query,
// liveness at /healthz and readiness at /readyz.
type Server struct {
	http.Handler
	draining atomic.Bool
	gql      *graphQL
	// streams ends the server-sent event streams when the server drains.
	streams    context.Context
	endStreams context.CancelFunc
}

// Drain makes /readyz answer 503 from now on, so that load balancers stop sending requests while
// the server finishes those it has, and closes the streams of subscriptions: WebSockets with 1001
// (going away), server-sent events by ending them. Their clients reconnect to another process.
func (s *Server) Drain() {
	s.draining.Store(true)
	s.gql.sockets.closeAll()
	s.endStreams()
}

// readyTimeout is how long /readyz waits for the database (DESIGN §8).
const readyTimeout = time.Second

// NewServer is every route of taskql. A request to the API is read whole first, then given its
// deadline and its turn among the requests executing at once, then authenticated, then rate
// limited, and only then parsed (DESIGN §7). A stream of subscriptions takes neither a deadline
// nor a turn: a server-sent events request is read and authenticated as any other, and a
// WebSocket authenticates in its connection_init.
func NewServer(svc *rules.Service, opts Options) *Server {
	limits := opts.Limits.orDefaults()
	render := guard.Render(writeRefusal)
	rate := guard.NewRate(opts.RatePerSecond, opts.RateBurst)
	s := &Server{gql: newGraphQL(svc, opts, limits)}
	s.streams, s.endStreams = context.WithCancel(context.Background())
	authorized := func(next http.Handler) http.Handler {
		return auth.Middleware(svc, refuse, rate.Middleware(bearerToken, render, next))
	}
	request := guard.ReadBody(limits.BodyBytes, render, checkBody(render,
		guard.Deadline(limits.Deadline, guard.Admission(opts.MaxInFlight, render, authorized(s.gql)))))
	events := guard.ReadBody(limits.BodyBytes, render, checkBody(render, authorized(s.stream(s.gql))))
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case isWebSocket(r):
			r = r.WithContext(withUpgradeToken(r.Context(), r.Header.Get("Authorization")))
			s.stream(s.gql).ServeHTTP(w, r)
		case isEventStream(r):
			events.ServeHTTP(w, r)
		default:
			request.ServeHTTP(w, r)
		}
	})
	mux := http.NewServeMux()
	mux.Handle("/query", withCORS(opts.CORSOrigins, api))
	if !opts.Production {
		mux.Handle("GET /{$}", playgroundHandler(svc, opts.PlaygroundToken))
	}
	b := &board{svc: svc}
	if !opts.Production {
		b.demo = opts.DemoTokens
	}
	mux.HandleFunc("GET /app", b.page)
	mux.HandleFunc("GET /app/{$}", b.page)
	mux.HandleFunc("GET /app/{asset...}", b.asset)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.ready(svc))
	if opts.Metrics != nil && !opts.Production {
		mux.Handle("GET /metrics", opts.Metrics)
	}
	s.Handler = guard.WithRequestID(observed(opts.Telemetry, mux))
	return s
}

// routes are the paths of the API, by which requests are counted; anything else is "other".
var routes = map[string]bool{"/": true, "/query": true, "/healthz": true, "/readyz": true, "/metrics": true, "/app": true}

func route(r *http.Request) string {
	if routes[r.URL.Path] {
		return r.URL.Path
	}
	if strings.HasPrefix(r.URL.Path, "/app/") {
		return "/app/" // the board's files
	}
	return "other"
}

// observed writes each request's access line and counts it, and traces it when traces are
// exported, continuing the caller's trace (traceparent).
func observed(t *telemetry.Telemetry, next http.Handler) http.Handler {
	if t == nil {
		return next
	}
	next = t.Observe(route, next)
	if t.Tracing {
		next = otelhttp.NewHandler(next, "taskql", otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			return r.Method + " " + route(r)
		}))
	}
	return next
}

// stream serves a long-lived request: the server's read and write timeouts, meant for ordinary
// requests, do not apply to it, and it ends when the server drains.
func (s *Server) stream(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Time{})
		_ = rc.SetWriteDeadline(time.Time{})
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		stop := context.AfterFunc(s.streams, cancel)
		defer stop()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// ready answers /readyz: 503 while draining or while the database cannot answer within 1 s.
func (s *Server) ready(svc *rules.Service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
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
	}
}

// bearerToken is the request's bearer token, the key of its rate limit.
func bearerToken(r *http.Request) string { return auth.BearerToken(r.Header.Get("Authorization")) }

// playgroundHandler serves GraphiQL from the files embedded in the binary (playground.go), with
// the demo token pre-filled while it still works (it stops working when revoked, or when the
// database holds another world).
func playgroundHandler(svc *rules.Service, token string) http.Handler {
	return newPlayground(svc, token)
}

// withCORS lets pages of the allowed origins call the API from a browser (rs/cors). A preflight
// carries no token, so it is answered here, before authentication, and allows every header the
// page asks to send (Authorization, Content-Type, traceparent, X-Request-Id, a client's own):
// the API holds no cookie a header could misuse.
func withCORS(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders: []string{"*"},
		ExposedHeaders: []string{"X-Request-Id", "WWW-Authenticate", "Retry-After"},
		MaxAge:         600,
	}).Handler(next)
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
