package graph

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// At most MaxInFlight requests execute at once; the others wait their turn, and one whose client
// gives up while waiting never runs.
func TestLimitInFlightLetsNThroughAtOnce(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	var running, ran atomic.Int32
	h := limitInFlight(1, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		if running.Add(1) > 1 {
			t.Error("two requests ran at once")
		}
		ran.Add(1)
		entered <- struct{}{}
		<-release
		running.Add(-1)
	}))
	serve := func(ctx context.Context) chan struct{} {
		done := make(chan struct{})
		go func() {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/query", nil).WithContext(ctx))
			close(done)
		}()
		return done
	}
	first := serve(context.Background())
	<-entered // the first holds the only slot

	gaveUp, cancel := context.WithCancel(context.Background())
	cancelled := serve(gaveUp)
	cancel()
	<-cancelled // it left without running

	second := serve(context.Background())
	release <- struct{}{}
	<-first
	<-entered // the second runs only now
	release <- struct{}{}
	<-second
	if n := ran.Load(); n != 2 {
		t.Errorf("%d requests ran, want 2", n)
	}
}

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
