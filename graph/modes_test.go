package graph_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/taskql/taskql/graph"
	"github.com/taskql/taskql/internal/testdb"
)

// DESIGN §7: production mode, rate limits, trusted documents and automatic persisted queries.

// seeded serves the test world on SQLite with the options.
func seeded(t *testing.T, o graph.Options) *api {
	t.Helper()
	st := testdb.SQLite(t)
	seedWorld(t, st)
	return serve(t, st, o)
}

// Each token has its own bucket: past its burst, a token is refused with 429, Retry-After and
// RATE_LIMITED, before any work; other tokens are not slowed by it.
func TestRequestsPerTokenAreRateLimited(t *testing.T) {
	t.Parallel()
	a := seeded(t, graph.Options{Production: true, RatePerSecond: 0.01, RateBurst: 2})
	for range 2 {
		a.post(tokAda, `{ viewer { id } }`, nil).ok()
	}
	r := a.post(tokAda, `{ viewer { id } }`, nil)
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("third request of the burst of 2: status %d, Retry-After %q; want 429 with Retry-After", r.Status, r.Header.Get("Retry-After"))
	}
	r.wantErrors(`[{"message": "too many requests for this token; retry after the time Retry-After gives", "extensions": {"code": "RATE_LIMITED"}}]`)
	a.post(tokAdmin, `{ viewer { id } }`, nil).wantData(`{"viewer": {"id": "usr_admin"}}`)
	if r := a.post("", `{ viewer { id } }`, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("no token: status %d, want 401", r.Status)
	}
}

// Development mode limits no rate unless told to.
func TestDevelopmentModeHasNoRateLimitByDefault(t *testing.T) {
	t.Parallel()
	a := seeded(t, graph.Options{})
	for range 150 {
		a.post(tokAda, `{ viewer { id } }`, nil).ok()
	}
}

// trustedFile is a trusted-documents file as GraphQL Code Generator writes it: hash to document.
func trustedFile(t *testing.T, docs ...string) *graph.TrustedDocuments {
	t.Helper()
	m := map[string]string{}
	for _, d := range docs {
		m[sha(d)] = d
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	td, err := graph.ReadTrustedDocuments(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return td
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// postPersisted sends an operation by its hash only, as automatic persisted queries do.
func (a *api) postPersisted(token, hash string) *response {
	a.t.Helper()
	return a.postBody(token, `{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "`+hash+`"}}}`)
}

// postBody sends a raw JSON body to /query.
func (a *api) postBody(token, body string) *response {
	a.t.Helper()
	req, err := http.NewRequestWithContext(a.t.Context(), http.MethodPost, a.srv.URL+"/query", strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return a.send(req)
}

// With trusted documents only those operations run, by text or by hash; any other document is
// PERSISTED_QUERY_NOT_FOUND, and none can be registered.
func TestOnlyTrustedDocumentsRun(t *testing.T) {
	t.Parallel()
	const viewer = `query Viewer { viewer { id } }`
	a := seeded(t, graph.Options{Production: true, TrustedDocuments: trustedFile(t, viewer)})
	a.post(tokAda, viewer, nil).wantData(`{"viewer": {"id": "usr_ada"}}`)
	a.postPersisted(tokAda, sha(viewer)).wantData(`{"viewer": {"id": "usr_ada"}}`)

	other := `{ viewer { id name } }`
	r := a.post(tokAda, other, nil)
	r.wantErrors(`[{"message": "the operation is not one of the server's trusted documents", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]`)
	// Registering it the automatic way does not make it trusted.
	register := `{"query": "` + other + `", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "` + sha(other) + `"}}}`
	if got := a.postBody(tokAda, register).codes(); len(got) != 1 || got[0] != "PERSISTED_QUERY_NOT_FOUND" {
		t.Errorf("registering an untrusted document: codes %v, want [PERSISTED_QUERY_NOT_FOUND]", got)
	}
	if got := a.postPersisted(tokAda, sha(other)).codes(); len(got) != 1 || got[0] != "PERSISTED_QUERY_NOT_FOUND" {
		t.Errorf("an untrusted hash: codes %v, want [PERSISTED_QUERY_NOT_FOUND]", got)
	}
}

// A trusted-documents file whose hash is not its document's is refused when it is read.
func TestATrustedDocumentsFileWithAWrongHashIsRefused(t *testing.T) {
	t.Parallel()
	for name, file := range map[string]string{
		"codegen map":     `{"0000": "{ viewer { id } }"}`,
		"apollo manifest": `{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id": "0000", "body": "{ viewer { id } }"}]}`,
		"not JSON":        `{ viewer { id } }`,
	} {
		if _, err := graph.ReadTrustedDocuments(strings.NewReader(file)); err == nil {
			t.Errorf("%s: read without error", name)
		}
	}
	manifest := `{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id": "` +
		sha(`{ viewer { id } }`) + `", "name": "V", "type": "query", "body": "{ viewer { id } }"}]}`
	td, err := graph.ReadTrustedDocuments(strings.NewReader(manifest))
	if err != nil || td.Len() != 1 {
		t.Errorf("an Apollo manifest of one operation: %v, %d documents", err, td.Len())
	}
}

// Automatic persisted queries work in both modes: an unknown hash is PERSISTED_QUERY_NOT_FOUND,
// the client then sends the text with its hash, and the hash alone works from then on.
func TestAutomaticPersistedQueries(t *testing.T) {
	t.Parallel()
	for _, production := range []bool{false, true} {
		a := seeded(t, graph.Options{Production: production})
		const q = `{ viewer { id } }`
		r := a.postPersisted(tokAda, sha(q))
		r.wantErrors(`[{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]`)
		register := `{"query": "` + q + `", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "` + sha(q) + `"}}}`
		a.postBody(tokAda, register).wantData(`{"viewer": {"id": "usr_ada"}}`)
		a.postPersisted(tokAda, sha(q)).wantData(`{"viewer": {"id": "usr_ada"}}`)
		wrong := `{"query": "` + q + `", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "` + sha("other") + `"}}}`
		if got := a.postBody(tokAda, wrong).codes(); len(got) != 1 || got[0] != "BAD_USER_INPUT" {
			t.Errorf("production %v: a hash that is not the query's: codes %v, want [BAD_USER_INPUT]", production, got)
		}
	}
}

// Production mode: no playground, no introspection, no suggestions; queries work.
func TestProductionModeHidesTheSchema(t *testing.T) {
	t.Parallel()
	a := seeded(t, graph.Options{Production: true})
	if r := a.send(getReq(t, a.srv.URL+"/")); r.Status != http.StatusNotFound {
		t.Errorf("GET / in production: %d, want 404", r.Status)
	}
	r := a.post(tokAdmin, `{ __schema { queryType { name } } }`, nil)
	r.wantErrors(`[{"message": "introspection is disabled on this server", "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}]`)
	r = a.post(tokAdmin, `{ viewr { id } }`, nil)
	if strings.Contains(string(r.Body), "Did you mean") {
		t.Errorf("a misspelled field in production: %s, want no suggestion", r.Body)
	}
	a.post(tokAdmin, `{ viewer { id } __typename }`, nil).wantData(`{"viewer": {"id": "usr_admin"}, "__typename": "Query"}`)

	dev := seeded(t, graph.Options{})
	dev.post(tokAdmin, `{ __schema { queryType { name } } }`, nil).wantData(`{"__schema": {"queryType": {"name": "Query"}}}`)
	if r := dev.post(tokAdmin, `{ viewr { id } }`, nil); !strings.Contains(string(r.Body), "Did you mean") {
		t.Errorf("a misspelled field in development: %s, want a suggestion", r.Body)
	}
}
