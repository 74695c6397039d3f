package graph_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/taskql/taskql/graph"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
)

var update = flag.Bool("update", false, "rewrite the golden files of graph/testdata")

// api is a running taskql server, the handler `taskql serve` serves, on a seeded database.
type api struct {
	t   *testing.T
	st  *store.Store
	srv *httptest.Server
	svc *rules.Service // with a bus: real-time delivery (live)
}

// newAPI seeds st with the world and serves it.
func newAPI(t *testing.T, st *store.Store, opts ...rules.Option) *api {
	t.Helper()
	seedWorld(t, st)
	return serve(t, st, graph.Options{}, opts...)
}

// serve serves st as it is.
func serve(t *testing.T, st *store.Store, o graph.Options, opts ...rules.Option) *api {
	t.Helper()
	return serveHandler(t, st, graph.NewServer(rules.New(st, opts...), o))
}

// serveHandler serves a handler of st.
func serveHandler(t *testing.T, st *store.Store, h http.Handler) *api {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &api{t: t, st: st, srv: srv}
}

// eachDB runs body on a fresh, seeded database of every engine, in parallel with other tests.
func eachDB(t *testing.T, body func(t *testing.T, a *api), opts ...rules.Option) {
	t.Helper()
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		body(t, newAPI(t, st, opts...))
	})
}

// response is one HTTP answer of the server.
type response struct {
	t      *testing.T
	Status int         `json:"-"`
	Header http.Header `json:"-"`
	Body   []byte      `json:"-"`
	// Data and Errors are the GraphQL response's members, as sent.
	Data   json.RawMessage   `json:"data"`
	Errors []json.RawMessage `json:"errors"`
}

// post sends a GraphQL request as POST /query with the token (none when empty).
func (a *api) post(token, query string, vars map[string]any) *response {
	a.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		a.t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(a.t.Context(), http.MethodPost, a.srv.URL+"/query", bytes.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return a.send(req)
}

// get sends a GraphQL request as GET /query?query=...&variables=... with the token.
func (a *api) get(token, query string, vars map[string]any) *response {
	a.t.Helper()
	q := url.Values{"query": {query}}
	if vars != nil {
		b, err := json.Marshal(vars)
		if err != nil {
			a.t.Fatal(err)
		}
		q.Set("variables", string(b))
	}
	req, err := http.NewRequestWithContext(a.t.Context(), http.MethodGet, a.srv.URL+"/query?"+q.Encode(), nil)
	if err != nil {
		a.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return a.send(req)
}

// send sends any request and reads its answer; a JSON body is decoded into Data and Errors.
func (a *api) send(req *http.Request) *response {
	a.t.Helper()
	res, err := a.srv.Client().Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	r := &response{t: a.t, Status: res.StatusCode, Header: res.Header, Body: body}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(body, r); err != nil {
			a.t.Fatalf("%s %s: body is not a GraphQL response: %v\n%s", req.Method, req.URL.Path, err, body)
		}
	}
	return r
}

// ok asserts a 200 answer without errors and returns its data.
func (r *response) ok() json.RawMessage {
	r.t.Helper()
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		r.t.Fatalf("status %d, want 200 without errors; body:\n%s", r.Status, r.Body)
	}
	return r.Data
}

// wantData asserts that data is the JSON want (compared as values, not as text).
func (r *response) wantData(want string) {
	r.t.Helper()
	jsonEqual(r.t, "data", want, r.Data)
}

// wantErrors asserts the errors member exactly: every error's message, path and extensions, as
// JSON. An error's locations are compared only when want gives them (they point into the query
// text, which the tests do not lay out for them).
func (r *response) wantErrors(want string) {
	r.t.Helper()
	var w []map[string]any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		r.t.Fatalf("want errors is not a JSON array of objects: %v\n%s", err, want)
	}
	got := make([]map[string]any, len(r.Errors))
	for i, raw := range r.Errors {
		decode(r.t, raw, &got[i])
		if i < len(w) {
			if _, ok := w[i]["locations"]; !ok {
				delete(got[i], "locations")
			}
		}
	}
	if diff := cmp.Diff(w, got); diff != "" {
		r.t.Errorf("errors mismatch (-want +got):\n%s\nbody: %s", diff, r.Body)
	}
}

// wantError asserts a 200 answer with data and one error, both exactly.
func (r *response) wantError(data, err string) {
	r.t.Helper()
	if r.Status != http.StatusOK {
		r.t.Errorf("status = %d, want 200; body:\n%s", r.Status, r.Body)
	}
	r.wantData(data)
	r.wantErrors("[" + err + "]")
}

// code returns the extensions.code of each error.
func (r *response) codes() []string {
	var codes []string
	for _, raw := range r.Errors {
		var e struct {
			Extensions struct{ Code string } `json:"extensions"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			r.t.Fatal(err)
		}
		codes = append(codes, e.Extensions.Code)
	}
	return codes
}

// decode decodes data into v.
func decode(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
}

// jsonEqual compares two JSON texts as values and reports the difference as (-want +got).
func jsonEqual(t *testing.T, what, want string, got []byte) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %s is not JSON: %v\n%s", what, err, want)
	}
	if len(got) == 0 {
		got = []byte("null")
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got %s is not JSON: %v\n%s", what, err, got)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, diff)
	}
}

// golden compares got, as indented JSON, with testdata/name.golden, or rewrites the file with
// -update. Both databases must answer the same: there is one file for both.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var v any
	decode(t, got, &v)
	pretty, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	pretty = append(pretty, '\n')
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, pretty, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./graph -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(pretty)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// page is one page of any connection.
type page struct {
	Edges []struct {
		Cursor string
		Node   struct{ ID string }
	}
	Nodes    []struct{ ID string }
	PageInfo struct {
		HasNextPage     bool
		HasPreviousPage bool
		StartCursor     *string
		EndCursor       *string
	}
	TotalCount int
}

// pageFields selects what page decodes.
const pageFields = `edges { cursor node { id } } nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount`

// walk reads every page of a connection with first=size: query takes $first and $after, and at
// picks the connection out of the data. It checks each page's pageInfo against its edges and
// returns the ids in order, and the totalCount of each page.
func (a *api) walk(token, query string, vars map[string]any, size int, at func(json.RawMessage) json.RawMessage) (ids []string, counts []int) {
	a.t.Helper()
	var after *string
	for i := 0; ; i++ {
		if i > 100 {
			a.t.Fatal("walk: more than 100 pages")
		}
		v := map[string]any{"first": size, "after": after}
		for k, x := range vars {
			v[k] = x
		}
		var p page
		decode(a.t, at(a.post(token, query, v).ok()), &p)
		counts = append(counts, p.TotalCount)
		if len(p.Edges) != len(p.Nodes) {
			a.t.Fatalf("page %d: %d edges but %d nodes", i, len(p.Edges), len(p.Nodes))
		}
		for j, e := range p.Edges {
			if e.Node.ID != p.Nodes[j].ID {
				a.t.Errorf("page %d: edge %d is %s but node %d is %s", i, j, e.Node.ID, j, p.Nodes[j].ID)
			}
			ids = append(ids, e.Node.ID)
		}
		if got, want := p.PageInfo.HasPreviousPage, after != nil; got != want {
			a.t.Errorf("page %d: hasPreviousPage = %v, want %v", i, got, want)
		}
		if len(p.Edges) == 0 {
			if p.PageInfo.StartCursor != nil || p.PageInfo.EndCursor != nil || p.PageInfo.HasNextPage {
				a.t.Errorf("page %d: empty page with pageInfo %+v", i, p.PageInfo)
			}
			return ids, counts
		}
		if p.PageInfo.StartCursor == nil || *p.PageInfo.StartCursor != p.Edges[0].Cursor ||
			p.PageInfo.EndCursor == nil || *p.PageInfo.EndCursor != p.Edges[len(p.Edges)-1].Cursor {
			a.t.Errorf("page %d: start/end cursors %v/%v are not the first and last edge's", i, p.PageInfo.StartCursor, p.PageInfo.EndCursor)
		}
		if !p.PageInfo.HasNextPage {
			return ids, counts
		}
		// A page is never short while more items exist.
		if len(p.Edges) != size {
			a.t.Errorf("page %d holds %d items and hasNextPage; want %d", i, len(p.Edges), size)
		}
		after = p.PageInfo.EndCursor
	}
}

// field picks a member out of a JSON object, following a path of names.
func field(path ...string) func(json.RawMessage) json.RawMessage {
	return func(data json.RawMessage) json.RawMessage {
		for _, name := range path {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(data, &m); err != nil {
				return nil
			}
			data = m[name]
		}
		return data
	}
}
