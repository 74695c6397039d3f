package rest

import (
	_ "embed"
	"net/http"
)

// OpenAPI is the OpenAPI 3.1 document of the REST endpoints (DESIGN §9), served at /openapi.json.
// It is written by hand and embedded as committed; the tests validate every response they get
// against it, so it cannot drift from what the handlers send.
//
//go:embed openapi.json
var OpenAPI []byte

// serveOpenAPI serves the document; it needs no token: it describes the API, not its data.
func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(OpenAPI)
}
