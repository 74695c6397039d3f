package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/taskql/taskql/internal/telemetry"
)

// tracer makes the spans of the GraphQL adapter: one per operation, one per batch of a loader.
var tracer = otel.Tracer("github.com/taskql/taskql/graph")

// observer tells the operator what each operation was (DESIGN §8): its name, type and error codes
// on the request's access line, and a span around its execution, under which the loaders' and
// the rules' spans and the SQL statements' nest.
type observer struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = observer{}

func (observer) ExtensionName() string                   { return "Observer" }
func (observer) Validate(graphql.ExecutableSchema) error { return nil }

func (observer) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	rec := telemetry.RecordOf(ctx)
	name, kind := "", ""
	if oc := graphql.GetOperationContext(ctx); oc != nil {
		name = oc.OperationName
		if oc.Operation != nil {
			kind = string(oc.Operation.Operation)
			if name == "" {
				name = oc.Operation.Name
			}
		}
	}
	rec.Operation(name, kind)
	ctx, span := tracer.Start(ctx, strings.TrimSpace("graphql."+kind+" "+name), trace.WithAttributes(
		attribute.String("graphql.operation.name", name), attribute.String("graphql.operation.type", kind)))
	defer span.End()
	resp := next(ctx)
	if resp == nil {
		return nil
	}
	for _, e := range resp.Errors {
		code, _ := e.Extensions["code"].(string)
		rec.Codes(code)
		if code == complexityLimitExceeded {
			rec.Refused("complexity")
		}
	}
	if len(resp.Errors) > 0 {
		span.SetStatus(codes.Error, resp.Errors[0].Message)
	}
	return resp
}

// refused notes the limit that refused a request.
func refused(ctx context.Context, limit string) { telemetry.RecordOf(ctx).Refused(limit) }
