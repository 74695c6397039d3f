package graph

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// A page of an allowed origin may call the API from a browser: its preflight, which carries no
// token, is answered before authentication; other origins get no CORS headers.
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
		r.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	w := preflight("https://app.example")
	if w.Code != http.StatusNoContent || reached {
		t.Fatalf("allowed preflight: status %d, reached the API %v; want 204 answered here", w.Code, reached)
	}
	if got := w.Header().Get("Access-Control-Allow-Origin"); got != "https://app.example" {
		t.Errorf("Access-Control-Allow-Origin = %q", got)
	}
	if got := w.Header().Get("Access-Control-Allow-Headers"); got != "Authorization, Content-Type" {
		t.Errorf("Access-Control-Allow-Headers = %q", got)
	}
	w = preflight("https://evil.example")
	if got := w.Header().Get("Access-Control-Allow-Origin"); got != "" || !reached {
		t.Errorf("other origin: Access-Control-Allow-Origin = %q, reached the API %v; want none, passed on", got, reached)
	}
}
