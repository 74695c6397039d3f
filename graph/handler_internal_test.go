package graph

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// A page of an allowed origin may call the API from a browser: its preflight, which carries no
// token, is answered before authentication and allows each header the page asks for; other
// origins get no CORS headers.
func TestCORSAnswersPreflightsOfAllowedOrigins(t *testing.T) {
	reached := false
	h := withCORS([]string{"https://app.example"}, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		reached = true
		w.WriteHeader(http.StatusUnauthorized)
	}))
	preflight := func(origin string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodOptions, "/query", nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header.Set("Access-Control-Request-Headers", "authorization, content-type, traceparent, x-request-id")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	w := preflight("https://app.example")
	if w.Code/100 != 2 || reached {
		t.Fatalf("allowed preflight: status %d, reached the API %v; want 2xx answered here", w.Code, reached)
	}
	if got := w.Header().Get("Access-Control-Allow-Origin"); got != "https://app.example" {
		t.Errorf("Access-Control-Allow-Origin = %q", got)
	}
	allowed := strings.ToLower(w.Header().Get("Access-Control-Allow-Headers"))
	for _, h := range []string{"authorization", "content-type", "traceparent", "x-request-id"} {
		if !strings.Contains(allowed, h) {
			t.Errorf("Access-Control-Allow-Headers = %q, missing %s", allowed, h)
		}
	}
	w = preflight("https://evil.example")
	if got := w.Header().Get("Access-Control-Allow-Origin"); got != "" || reached {
		t.Errorf("other origin: Access-Control-Allow-Origin = %q, reached the API %v; want none, not reached", got, reached)
	}
	r := httptest.NewRequest(http.MethodPost, "/query", nil)
	r.Header.Set("Origin", "https://app.example")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if exposed := w.Header().Get("Access-Control-Expose-Headers"); !strings.Contains(exposed, "X-Request-Id") || !reached {
		t.Errorf("a request of an allowed origin: exposes %q, reached the API %v; want X-Request-Id exposed, reached", exposed, reached)
	}
}

// A POST's members, as checkBody read them, decode to what decoding the whole body gives.
func TestRequestBodyDecodesAsTheWholeBody(t *testing.T) {
	for _, body := range []string{
		`{"query":"{ viewer { id } }"}`,
		`{"query":"query Q($n: Int) { tasks(first: $n) { nodes { id } } }","variables":{"n":3,"f":1.50},"operationName":"Q"}`,
		`{"query":"{ task(id: \"tsk_01plan\") { label } }\n# é \u00e9 \ud83d\ude00","variables":null,"extensions":{"persistedQuery":{"version":1}}}`,
		`{"query":"caf\u00e9","operationName":null,"variables":{}}`,
		"{\"query\":\"\xff invalid utf-8\"}",
		`{"Query":"{ viewer { id } }","QUERY":"{ __typename }"}`,
	} {
		msg, members := bodyProblem([]byte(body))
		if msg != "" {
			t.Fatalf("%s: %s", body, msg)
		}
		var got, want graphql.RawParams
		if err := members.decode(&got); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		dec := json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: decoded %#v, want %#v", body, got, want)
		}
	}
}
