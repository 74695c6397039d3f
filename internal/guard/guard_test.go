package guard

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// At most n requests execute at once; the others wait their turn, and one whose client gives up
// while waiting never runs.
func TestAdmissionLetsNThroughAtOnce(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	var running, ran atomic.Int32
	h := Admission(1, nil, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
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
