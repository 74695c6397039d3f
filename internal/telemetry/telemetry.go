// Package telemetry is what an operator sees of taskql (DESIGN §8): logs (log/slog, text in
// development, JSON in production, one access line per request), Prometheus metrics, and
// OpenTelemetry traces exported over OTLP when the standard OTEL_* variables ask for it. serve sets
// it up once; no other package builds an exporter.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
)

// Config is what serve tells telemetry.
type Config struct {
	// Production logs JSON; development, text.
	Production bool
	// Log is where logs go (stderr when nil).
	Log io.Writer
	// Env reads the environment (os.Getenv when nil): the OTEL_* variables.
	Env func(string) string
	// Exporter, when set, receives the spans instead of an OTLP endpoint (a test's in-memory one).
	Exporter sdktrace.SpanExporter
}

// Telemetry is the process's metrics registry and tracer provider.
type Telemetry struct {
	// Registry holds every metric of the process, served at /metrics.
	Registry *prometheus.Registry
	// Metrics are taskql's own.
	Metrics *Metrics
	// Tracing tells whether traces are exported.
	Tracing bool

	shutdown func(context.Context) error
}

// Setup sets the process's logger, makes its metrics, and starts exporting traces when
// OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, over
// OTEL_EXPORTER_OTLP_PROTOCOL (grpc, or http/protobuf by default). An incoming traceparent is
// continued whether or not traces are exported.
func Setup(ctx context.Context, c Config) (*Telemetry, error) {
	if c.Log == nil {
		c.Log = os.Stderr
	}
	if c.Env == nil {
		c.Env = os.Getenv
	}
	var h slog.Handler = slog.NewTextHandler(c.Log, nil)
	if c.Production {
		h = slog.NewJSONHandler(c.Log, nil)
	}
	slog.SetDefault(slog.New(h))

	t := &Telemetry{Registry: prometheus.NewRegistry(), shutdown: func(context.Context) error { return nil }}
	t.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	t.Metrics = newMetrics(t.Registry)

	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	exp := c.Exporter
	if exp == nil {
		if c.Env("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && c.Env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
			return t, nil
		}
		var err error
		if exp, err = exporter(ctx, c.Env); err != nil {
			return nil, fmt.Errorf("telemetry: OTLP exporter: %w", err)
		}
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(serviceName(c.Env))))
	if err != nil && !errors.Is(err, resource.ErrSchemaURLConflict) {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	// The sampler is the SDK's: OTEL_TRACES_SAMPLER, parent-based always-on by default.
	batch := sdktrace.WithBatcher(exp)
	if c.Exporter != nil {
		batch = sdktrace.WithSyncer(exp) // a test reads the spans as soon as they end
	}
	tp := sdktrace.NewTracerProvider(batch, sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	t.Tracing, t.shutdown = true, tp.Shutdown
	return t, nil
}

// exporter is the OTLP exporter the variables name; each reads its own OTEL_EXPORTER_OTLP_*
// settings (endpoint, headers, timeout).
func exporter(ctx context.Context, env func(string) string) (sdktrace.SpanExporter, error) {
	protocol := env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if protocol == "" {
		protocol = env("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	if strings.EqualFold(protocol, "grpc") {
		return otlptracegrpc.New(ctx)
	}
	return otlptracehttp.New(ctx)
}

// serviceName is OTEL_SERVICE_NAME, else taskql.
func serviceName(env func(string) string) string {
	if s := env("OTEL_SERVICE_NAME"); s != "" {
		return s
	}
	return "taskql"
}

// Shutdown exports the spans not yet sent.
func (t *Telemetry) Shutdown(ctx context.Context) error { return t.shutdown(ctx) }
