package rest

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/taskql/taskql/internal/guard"
	"github.com/taskql/taskql/internal/telemetry"
)

// Serves tells whether a path is the REST adapter's: under /v1/ or /api/v1/ (the documents'
// paths), or /openapi.json. No GraphQL route starts so.
func Serves(path string) bool {
	return strings.HasPrefix(path, "/v1/") || strings.HasPrefix(path, "/api/v1/") || path == RouteOpenAPI
}

// Mount serves the REST adapter beside another API on one port (DESIGN §9): a request to a path
// of Serves goes to api, given its request id (X-Request-Id) and its access line, metrics and
// trace under its Route name, as the GraphQL server gives its own; any other request goes to
// others (the GraphQL server), untouched. tel may be nil: no access line, no metrics.
func Mount(api http.Handler, tel *telemetry.Telemetry, others http.Handler) http.Handler {
	if tel != nil {
		api = tel.Observe(Route, api)
		if tel.Tracing {
			api = otelhttp.NewHandler(api, "taskql", otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
				return r.Method + " " + Route(r)
			}))
		}
	}
	api = guard.WithRequestID(api)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if Serves(r.URL.Path) {
			api.ServeHTTP(w, r)
			return
		}
		others.ServeHTTP(w, r)
	})
}
