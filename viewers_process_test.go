package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/taskql/taskql/internal/testdb"
)

// DESIGN §2 across OS processes: two `taskql serve` on one PostgreSQL database keep the viewers of
// the tokens they see; `taskql token revoke`, a third process, revokes one, and each server
// refuses it at its next request once the database's notification has reached it (it counts
// taskql_viewers_forgotten_total on /metrics).
func TestATokenRevokedByTheCommandIsRefusedByEveryServer(t *testing.T) {
	url := testdb.PostgresURL(t)
	bin := buildTaskql(t)
	a := startTaskql(t, bin, url)
	baseA := a.waitForURL(t) // the first loads the demo world
	b := startTaskql(t, bin, url)
	servers := []string{baseA, b.waitForURL(t)}

	// Each server keeps the viewer once its bus listens (it starts to in the background): the
	// requests go on until one finds it kept, for at most 5 s.
	for _, base := range servers {
		deadline := time.Now().Add(5 * time.Second)
		for metric(t, base, "taskql_viewer_cache_hits_total") < 1 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: no request found the viewer kept within 5 s", base)
			}
			if status := viewerStatus(t, base, "demo-ada-token"); status != http.StatusOK {
				t.Fatalf("%s: the demo token: %d, want 200", base, status)
			}
		}
	}

	ctx, cancel := context.WithTimeout(t.Context(), listenTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "token", "revoke", "--user", "usr_ada")
	cmd.Env = append(withoutTaskqlEnv(os.Environ()), "DATABASE_URL="+url)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "revoked 1 token") {
		t.Fatalf("taskql token revoke: %v\n%s", err, out)
	}
	for _, base := range servers {
		deadline := time.Now().Add(5 * time.Second)
		for metric(t, base, "taskql_viewers_forgotten_total") < 1 {
			if time.Now().After(deadline) {
				t.Fatalf("%s did not hear of the revocation within 5 s", base)
			}
			time.Sleep(10 * time.Millisecond) // polling another process's counter: nothing to wait on
		}
		if status := viewerStatus(t, base, "demo-ada-token"); status != http.StatusUnauthorized {
			t.Errorf("%s: the revoked token: %d, want 401", base, status)
		}
	}
}

// viewerStatus asks a server who the token is, and returns the HTTP status.
func viewerStatus(t *testing.T, base, token string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/query", strings.NewReader(`{"query":"{ viewer { id } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// metric reads one series without labels from a server's /metrics (development serves it on
// its own address); absent, it is 0.
func metric(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
