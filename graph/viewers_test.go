package graph_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/taskql/taskql/graph"
	"github.com/taskql/taskql/internal/migrate"
	"github.com/taskql/taskql/internal/pubsub"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/testdb"
	"github.com/taskql/taskql/model"
)

// DESIGN §2 with the viewers kept in memory (rules.WithViewerCache, as `taskql serve` runs on
// PostgreSQL): a revoked token, or a user whose access is withdrawn, is refused at the next
// request in every process, once the database's notification of the change has reached it;
// and while a process cannot hear notifications it keeps nothing.

// cachingServer serves st with real-time delivery and the viewer cache, listening through
// listenURL.
func cachingServer(t *testing.T, url, listenURL string) *api {
	t.Helper()
	st := openStore(t, url)
	ready := make(chan struct{})
	bus, err := pubsub.NewPostgres(listenURL, migrate.Channel, ready)
	if err != nil {
		t.Fatal(err)
	}
	<-ready
	t.Cleanup(func() { _ = bus.Close() })
	svc := rules.New(st, rules.WithBus(bus), rules.WithViewerCache(time.Hour))
	go svc.Deliver(context.Background())
	a := serveHandler(t, st, graph.NewServer(svc, graph.Options{}))
	a.svc = svc
	return a
}

// viewerIs asks who the token is, twice: the second answer comes from the cache.
func (a *api) viewerIs(token, want string) {
	a.t.Helper()
	hits := a.svc.Stats().ViewerHits
	for range 2 {
		a.post(token, `{ viewer { id } }`, nil).wantData(`{"viewer": {"id": "` + want + `"}}`)
	}
	if got := a.svc.Stats().ViewerHits - hits; got != 1 {
		a.t.Fatalf("%d of two requests found the viewer kept, want the second", got)
	}
}

func TestARevokedTokenIsRefusedByEveryServerThatKeptIt(t *testing.T) {
	t.Parallel()
	url := testdb.PostgresURL(t)
	seedWorld(t, openStore(t, url))
	a, b := cachingServer(t, url, url), cachingServer(t, url, url)
	a.viewerIs(tokAda, "usr_ada")
	b.viewerIs(tokAda, "usr_ada")
	b.viewerIs(tokCat, "usr_cat")

	// As `taskql token revoke` does, from a process of its own.
	if n, err := openStore(t, url).RevokeTokens(t.Context(), "usr_ada"); err != nil || n != 1 {
		t.Fatalf("revoke: %d, %v", n, err)
	}
	for _, s := range []*api{a, b} {
		waitFor(t, "the change heard", func() bool { return s.svc.Stats().ViewersForgotten > 0 })
		if r := s.post(tokAda, `{ viewer { id } }`, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("the revoked token: %d %s, want 401", r.Status, r.Body)
		}
	}
	b.viewerIs(tokCat, "usr_cat") // read again, and kept again

	// Access withdrawn by hand, in SQL: the next request is refused too.
	forgotten := b.svc.Stats().ViewersForgotten
	execSQL(t, openStore(t, url), `UPDATE users SET is_access_approved = false WHERE id = 'usr_cat'`)
	waitFor(t, "the change heard", func() bool { return b.svc.Stats().ViewersForgotten > forgotten })
	if codes := b.post(tokCat, `{ viewer { id } }`, nil).codes(); len(codes) != 1 || codes[0] != "FORBIDDEN" {
		t.Errorf("a user whose access was withdrawn: %v, want FORBIDDEN", codes)
	}
}

// A server that has lost its listening connection could miss the news of a revocation: it keeps
// no viewer until it listens again, and what it kept before is never used again.
func TestAServerThatCannotListenKeepsNoViewer(t *testing.T) {
	direct := testdb.PostgresURL(t)
	seedWorld(t, openStore(t, direct))
	proxied, proxy := testdb.ProxyTo(t, direct)
	logged := captureLogs(t)
	a := cachingServer(t, direct, proxied)
	a.viewerIs(tokAda, "usr_ada")
	a.viewerIs(tokCat, "usr_cat")

	proxy.Cut()
	waitFor(t, "the loss logged", func() bool { return logged.count("lost the listening connection") == 1 })
	hits := a.svc.Stats().ViewerHits
	a.post(tokCat, `{ viewer { id } }`, nil).ok()
	if _, err := openStore(t, direct).RevokeTokens(t.Context(), model.UserID("usr_ada")); err != nil {
		t.Fatal(err)
	}
	if r := a.post(tokAda, `{ viewer { id } }`, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("a token revoked while the server could not listen: %d %s, want 401", r.Status, r.Body)
	}
	if got := a.svc.Stats().ViewerHits; got != hits {
		t.Errorf("%d viewers found kept while the server could not listen, want none", got-hits)
	}

	proxy.Restore()
	waitFor(t, "listening again", func() bool { return logged.count("listening again") == 1 })
	a.viewerIs(tokCat, "usr_cat") // kept anew, from a read made while listening
}
