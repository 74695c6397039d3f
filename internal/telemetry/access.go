package telemetry

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"

	"github.com/felixge/httpsnoop"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/taskql/taskql/internal/guard"
)

// Record is what the access line of one request says. The layers that learn a part of it fill it
// in (the adapter its operation and error codes, authentication its viewer); Observe writes it.
type Record struct {
	mu        sync.Mutex
	operation string
	kind      string
	viewer    string
	codes     []string
	limit     string
}

type recordKey struct{}

// RecordOf is the request's record, or a record nobody reads when the request has none.
func RecordOf(ctx context.Context) *Record {
	if r, ok := ctx.Value(recordKey{}).(*Record); ok {
		return r
	}
	return &Record{}
}

// Operation notes the GraphQL operation's name and type (query, mutation, subscription).
func (r *Record) Operation(name, kind string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.operation, r.kind = name, kind
}

// Viewer notes the viewer's id.
func (r *Record) Viewer(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.viewer = id
}

// Codes notes error codes of the answer.
func (r *Record) Codes(codes ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.codes = append(r.codes, codes...)
}

// Refused notes the limit of DESIGN §7 that refused the request (taskql_refusals_total).
func (r *Record) Refused(limit string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.limit == "" {
		r.limit = limit
	}
}

// outcome is the first error code, or OK.
func (r *Record) outcome() string {
	if len(r.codes) == 0 {
		return "OK"
	}
	return r.codes[0]
}

// quiet are routes whose access lines are logged at debug level: probes call them every few
// seconds.
var quiet = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// Observe gives every request a record, and once it is answered writes its access line (request
// id, route, operation name and type, viewer, duration, HTTP status, error codes, trace id) and
// counts it. route names the request's route (its path for the API's few routes).
func (t *Telemetry) Observe(route func(*http.Request) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &Record{}
		ctx := r.Context()
		if !trace.SpanContextFromContext(ctx).IsValid() {
			// Not traced here: still note the caller's trace, to find this line from it.
			ctx = otel.GetTextMapPropagator().Extract(ctx, propagation.HeaderCarrier(r.Header))
		}
		m := httpsnoop.CaptureMetrics(next, w, r.WithContext(context.WithValue(ctx, recordKey{}, rec)))
		rt := route(r)
		rec.mu.Lock()
		defer rec.mu.Unlock()
		attrs := []slog.Attr{
			slog.String("request_id", guard.RequestID(r.Context())),
			slog.String("method", r.Method),
			slog.String("route", rt),
			slog.Int("status", m.Code),
			slog.Float64("duration_ms", float64(m.Duration.Microseconds())/1000),
		}
		if rec.operation != "" || rec.kind != "" {
			attrs = append(attrs, slog.String("operation", rec.operation), slog.String("type", rec.kind))
		}
		if rec.viewer != "" {
			attrs = append(attrs, slog.String("viewer", rec.viewer))
		}
		if len(rec.codes) > 0 {
			attrs = append(attrs, slog.Any("codes", rec.codes))
		}
		if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
			attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()))
		}
		level := slog.LevelInfo
		if quiet[rt] {
			level = slog.LevelDebug
		}
		slog.LogAttrs(r.Context(), level, "request", attrs...)
		code := rec.outcome()
		if code == "OK" && m.Code >= 400 {
			code = "HTTP_" + strconv.Itoa(m.Code)
		}
		t.Metrics.requests.WithLabelValues(rt, t.Metrics.operationLabel(rec.operation), rec.kind, code).Inc()
		t.Metrics.durations.WithLabelValues(rt, rec.kind).Observe(m.Duration.Seconds())
		if rec.limit != "" {
			t.Metrics.Refused(rec.limit)
		}
	})
}
