package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/taskql/taskql/internal/seed"
)

// server is run(ctx, serve…) going on in the background.
type server struct {
	lines  chan string // what it prints, a line at a time, closed when it returns
	done   chan error  // run's result
	cancel context.CancelFunc
	output []string // the lines read so far
}

// startServe runs `serve` with args in the background, printing into a pipe read line by line.
func startServe(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &server{lines: make(chan string, 64), done: make(chan error, 1), cancel: cancel}
	go func() {
		err := run(ctx, append([]string{"serve"}, args...), pw)
		pw.Close()
		s.done <- err
	}()
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		// Keep draining: the server must never block on its output.
		_, _ = io.Copy(io.Discard, pr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not return 15s after its context was cancelled")
		}
	})
	return s
}

var (
	playgroundLine = regexp.MustCompile(`^taskql: playground at (http://[^ ]+)/ , API at (http://[^ ]+/query)$`)
	apiLine        = regexp.MustCompile(`^taskql: API at (http://[^ ]+)/query$`) // production: no playground
)

// waitForURL reads lines until the playground line, returning the server's base URL and the
// lines before it. It fails if serve returns first.
func (s *server) waitForURL(t *testing.T) (base string, before []string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				t.Fatalf("serve stopped before printing its URL (%v); it printed:\n%s", <-s.done, strings.Join(s.output, "\n"))
			}
			s.output = append(s.output, line)
			if m := playgroundLine.FindStringSubmatch(line); m != nil {
				if m[2] != m[1]+"/query" {
					t.Errorf("playground %s and API %s are not on the same server", m[1], m[2])
				}
				return m[1], s.output[:len(s.output)-1]
			}
			if m := apiLine.FindStringSubmatch(line); m != nil {
				return m[1], s.output[:len(s.output)-1]
			}
		case <-timeout:
			t.Fatalf("serve printed no URL in 30s; it printed:\n%s", strings.Join(s.output, "\n"))
		}
	}
}

// stop cancels the server's context and returns what run returned.
func (s *server) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		return err
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not return 15s after its context was cancelled")
		return nil
	}
}

// demoTokens are the tokens printed under the "demo tokens" header, with their user ids.
func demoTokens(lines []string) (tokens, users []string) {
	in := false
	for _, l := range lines {
		if strings.HasPrefix(l, "taskql: demo tokens") {
			in = true
			continue
		}
		if in && strings.HasPrefix(l, "  ") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				tokens, users = append(tokens, f[0]), append(users, f[1])
			}
		}
	}
	return tokens, users
}

// lineOf is the first line that contains s.
func lineOf(lines []string, s string) string {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func query(t *testing.T, url, token, q string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": q})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(got)
}

func TestServeLoadsTheDemoWorldAndShutsDownGracefully(t *testing.T) {
	eachDatabase(t, func(t *testing.T, url string) {
		s := startServe(t, "--addr", "127.0.0.1:0")
		base, before := s.waitForURL(t)
		if len(before) == 0 || before[0] != "taskql: loaded the demo world into the empty database" {
			t.Errorf("serve on an empty database printed %q first, want that it loaded the demo world", before)
		}
		tokens, users := demoTokens(before)
		if len(tokens) == 0 {
			t.Fatalf("serve printed no demo tokens:\n%s", strings.Join(before, "\n"))
		}
		if users[0] != "usr_ada" {
			t.Errorf("the first demo token is of %s, want usr_ada", users[0])
		}

		if code, body := get(t, base+"/healthz"); code != http.StatusOK || !strings.Contains(body, `"ok"`) {
			t.Errorf("/healthz: %d %s", code, body)
		}
		if code, body := get(t, base+"/readyz"); code != http.StatusOK || !strings.Contains(body, `"ok"`) {
			t.Errorf("/readyz: %d %s", code, body)
		}
		if code, body := get(t, base+"/"); code != http.StatusOK || !strings.Contains(body, tokens[0]) {
			t.Errorf("playground: %d, want 200 with the first demo token pre-filled", code)
		}
		code, body := query(t, base+"/query", tokens[0], `{ viewer { id name } }`)
		if want := `{"data":{"viewer":{"id":"usr_ada","name":"Ada Lovelace"}}}`; code != http.StatusOK || body != want {
			t.Errorf("POST /query: %d %s, want 200 %s", code, body, want)
		}
		// Every printed token is one of the printed user; an unapproved user's, marked so, is
		// forbidden everything.
		for i, tk := range tokens {
			code, body := query(t, base+"/query", tk, `{ viewer { id } }`)
			want := `"id":"` + users[i] + `"`
			if strings.Contains(lineOf(before, tk), "not approved") {
				want = `"code":"FORBIDDEN"`
			}
			if code != http.StatusOK || !strings.Contains(body, want) {
				t.Errorf("token %s printed for %s: %d %s, want %s", tk, users[i], code, body, want)
			}
		}
		if code, _ := query(t, base+"/query", "", `{ viewer { id } }`); code != http.StatusUnauthorized {
			t.Errorf("POST /query without a token: %d, want 401", code)
		}

		if err := s.stop(t); err != nil {
			t.Fatalf("serve returned %v after its context was cancelled, want nil", err)
		}
		if _, err := http.Get(base + "/healthz"); err == nil {
			t.Error("the server still answers after run returned")
		}

		// A second start finds the demo world: it does not load it again, and still prints the
		// tokens.
		s = startServe(t, "--addr", "127.0.0.1:0")
		_, before = s.waitForURL(t)
		if len(before) > 0 && strings.Contains(before[0], "loaded the demo world") {
			t.Error("the second start loaded the demo world again")
		}
		if again, _ := demoTokens(before); fmt.Sprint(again) != fmt.Sprint(tokens) {
			t.Errorf("the second start printed tokens %v, want %v", again, tokens)
		}
		if err := s.stop(t); err != nil {
			t.Fatalf("second serve returned %v, want nil", err)
		}
	})
}

func TestServeNoDemoOnAnEmptyDatabasePrintsNoTokens(t *testing.T) {
	t.Run("flag", func(t *testing.T) { serveNoDemo(t, "--no-demo") })
	t.Run("TASKQL_NO_DEMO", func(t *testing.T) {
		t.Setenv("TASKQL_NO_DEMO", "1")
		serveNoDemo(t)
	})
}

func serveNoDemo(t *testing.T, args ...string) {
	url := sqliteURL(t)
	t.Setenv("DATABASE_URL", url)
	s := startServe(t, append([]string{"--addr", "127.0.0.1:0"}, args...)...)
	base, before := s.waitForURL(t)
	if len(before) != 0 {
		t.Errorf("serve --no-demo printed before its URL:\n%s", strings.Join(before, "\n"))
	}
	if code, _ := get(t, base+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz: %d", code)
	}
	if code, _ := query(t, base+"/query", seed.Demo().Tokens[0].Token, `{ viewer { id } }`); code != http.StatusUnauthorized {
		t.Errorf("a demo token on a --no-demo server: %d, want 401", code)
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("serve returned %v, want nil", err)
	}
	st := openStore(t, url)
	if empty, err := seed.Empty(t.Context(), st); err != nil || !empty {
		t.Errorf("seed.Empty = %v, %v after serve --no-demo; want true", empty, err)
	}
}

func TestServeFailsWhenItCannotListen(t *testing.T) {
	t.Setenv("DATABASE_URL", sqliteURL(t))
	s := startServe(t, "--addr", "127.0.0.1:0", "--no-demo")
	base, _ := s.waitForURL(t)
	addr := strings.TrimPrefix(base, "http://")
	mustFail(t, []string{"serve", "--no-demo", "--addr", addr}, strings.Split(addr, ":")[1])
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
}

// DESIGN §7: production mode (--env production or TASKQL_ENV=production) loads no demo world,
// serves no playground and answers no introspection; an unknown mode is refused.
func TestServeInProductionMode(t *testing.T) {
	for name, args := range map[string][]string{"flag": {"--env", "production"}, "TASKQL_ENV": nil} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("DATABASE_URL", sqliteURL(t))
			if args == nil {
				t.Setenv("TASKQL_ENV", "production")
			}
			s := startServe(t, append([]string{"--addr", "127.0.0.1:0"}, args...)...)
			base, before := s.waitForURL(t)
			if len(before) != 0 {
				t.Errorf("serve in production printed before its URL:\n%s", strings.Join(before, "\n"))
			}
			if code, _ := get(t, base+"/"); code != http.StatusNotFound {
				t.Errorf("GET / in production: %d, want 404", code)
			}
			if code, _ := get(t, base+"/readyz"); code != http.StatusOK {
				t.Errorf("/readyz: %d", code)
			}
			if code, _ := query(t, base+"/query", seed.Demo().Tokens[0].Token, `{ viewer { id } }`); code != http.StatusUnauthorized {
				t.Errorf("a demo token in production: %d, want 401 (no demo world)", code)
			}
			if err := s.stop(t); err != nil {
				t.Fatal(err)
			}
		})
	}
	mustFail(t, []string{"serve", "--env", "staging"}, "--env must be development or production")
}

// A trusted-documents file that cannot be read stops serve before it listens.
func TestServeRefusesABadTrustedDocumentsFile(t *testing.T) {
	t.Setenv("DATABASE_URL", sqliteURL(t))
	bad := writeFile(t, "trusted.json", `{"0000": "{ viewer { id } }"}`)
	mustFail(t, []string{"serve", "--env", "production", "--trusted-documents", bad}, "trusted.json", "not the SHA-256")
	mustFail(t, []string{"serve", "--trusted-documents", bad + ".missing"}, "--trusted-documents")
}
