package graph_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

// GraphQL over HTTP: a request refused before its operation executes (a document that does not
// parse or validate, variables that do not coerce) is 400 without a data entry for a client that
// accepts application/graphql-response+json, by POST and by GET (graphql-http's audits D586 and
// 5E5B, clients/conformance.mjs); application/json keeps gqlgen's 422 with "data": null, and an
// operation that executes is 200 with its data in both.
func TestGraphQLResponseJSONRefusalsHaveNoData(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		for _, c := range []struct {
			name, query string
			vars        map[string]any
			code        string
		}{
			{"a document that does not parse", `{`, nil, "GRAPHQL_PARSE_FAILED"},
			{"an unknown field", `{ nope }`, nil, "GRAPHQL_VALIDATION_FAILED"},
			{"null for a required variable", `query($id: ID!) { task(id: $id) { id } }`, map[string]any{"id": nil}, "GRAPHQL_VALIDATION_FAILED"},
		} {
			for _, method := range []string{http.MethodPost, http.MethodGet} {
				t.Run(method+" "+c.name, func(t *testing.T) {
					status, ct, body := sendAccepting(t, a, method, "application/graphql-response+json", c.query, c.vars)
					if status != http.StatusBadRequest || ct != "application/graphql-response+json" {
						t.Errorf("graphql-response+json: %d %s, want 400 application/graphql-response+json", status, ct)
					}
					if _, ok := body["data"]; ok {
						t.Errorf("graphql-response+json: a data entry: %s", body["data"])
					}
					if code := firstCode(t, body); code != c.code {
						t.Errorf("graphql-response+json: code %q, want %q", code, c.code)
					}

					status, ct, body = sendAccepting(t, a, method, "application/json", c.query, c.vars)
					if status != http.StatusUnprocessableEntity || ct != "application/json" {
						t.Errorf("json: %d %s, want 422 application/json", status, ct)
					}
					if data, ok := body["data"]; !ok || string(data) != "null" {
						t.Errorf(`json: data %s (present %v), want "data": null`, data, ok)
					}
					if code := firstCode(t, body); code != c.code {
						t.Errorf("json: code %q, want %q", code, c.code)
					}
				})
			}
		}
		// Executed: 200 with data, a field's error included.
		for _, accept := range []string{"application/graphql-response+json", "application/json"} {
			status, ct, body := sendAccepting(t, a, http.MethodPost, accept, `{ viewer { id } task(id: "tsk_nope") { id } }`, nil)
			if status != http.StatusOK || ct != accept {
				t.Errorf("%s, executed: %d %s, want 200 %s", accept, status, ct, accept)
			}
			jsonEqual(t, "data", `{"viewer": {"id": "usr_ada"}, "task": null}`, body["data"])
			if code := firstCode(t, body); code != "NOT_FOUND" {
				t.Errorf("%s, executed: code %q, want NOT_FOUND", accept, code)
			}
		}
	})
}

// sendAccepting sends a GraphQL request as Ada by method, accepting the media type, and returns
// the status, the Content-Type and the members of the JSON body.
func sendAccepting(t *testing.T, a *api, method, accept, query string, vars map[string]any) (int, string, map[string]json.RawMessage) {
	t.Helper()
	target := a.srv.URL + "/query"
	var body []byte
	if method == http.MethodGet {
		q := url.Values{"query": {query}}
		if vars != nil {
			b, err := json.Marshal(vars)
			if err != nil {
				t.Fatal(err)
			}
			q.Set("variables", string(b))
		}
		target += "?" + q.Encode()
	} else {
		var err error
		if body, err = json.Marshal(map[string]any{"query": query, "variables": vars}); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequestWithContext(t.Context(), method, target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("Authorization", "Bearer "+tokAda)
	r := a.send(req)
	var members map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &members); err != nil {
		t.Fatalf("%s %s: the body is not a JSON object: %v\n%s", method, accept, err, r.Body)
	}
	return r.Status, r.Header.Get("Content-Type"), members
}

// firstCode is the extensions.code of the first error of a response's members, or "".
func firstCode(t *testing.T, members map[string]json.RawMessage) string {
	t.Helper()
	var errs []struct {
		Extensions struct{ Code string } `json:"extensions"`
	}
	if raw, ok := members["errors"]; ok {
		if err := json.Unmarshal(raw, &errs); err != nil {
			t.Fatalf("errors: %v\n%s", err, raw)
		}
	}
	if len(errs) == 0 {
		return ""
	}
	return errs[0].Extensions.Code
}
