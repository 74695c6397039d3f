package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/taskql/taskql/internal/testdb"
)

// DESIGN §4 heard by a real client: the npm graphql-ws client (clients/graphql-ws.mjs, run by
// Node) subscribes on one taskql process while the changes are made through another, both
// separate OS processes of the built binary on one PostgreSQL database. Everything is on the
// loopback and bounded in time.

// Bounds of the test's steps.
const (
	buildTimeout   = 3 * time.Minute  // go build of the binary
	listenTimeout  = 30 * time.Second // a serve process prints its URL
	stopTimeout    = 15 * time.Second // a serve process exits after SIGTERM (it drains for 10 s at most)
	clientsTimeout = 90 * time.Second // the Node script (which bounds itself by 60 s)
)

// latencyLine is how the script prints the time from a mutation's answer to its message.
var latencyLine = regexp.MustCompile(`^latency (\w+): (-?[\d.]+ ms)`)

func TestTheGraphQLWSClientHearsChangesAcrossTwoProcesses(t *testing.T) {
	node := requireNodeClients(t, "graphql-ws", "ws")
	url := testdb.PostgresURL(t) // before the build: skips (or fails) at once without PostgreSQL
	started := time.Now()
	bin := buildTaskql(t)
	t.Logf("built %s in %s", bin, time.Since(started).Round(time.Millisecond))

	// One process first: serve loads the demo world into the empty database, once.
	a := startTaskql(t, bin, url)
	baseA := a.waitForURL(t)
	if a.printed("loaded the demo world") == "" {
		t.Fatalf("the first serve did not load the demo world; it printed:\n%s", strings.Join(a.lines(), "\n"))
	}
	b := startTaskql(t, bin, url)
	baseB := b.waitForURL(t)
	if l := b.printed("loaded the demo world"); l != "" {
		t.Errorf("the second serve loaded the demo world again: %q", l)
	}
	t.Logf("A: pid %d at %s; B: pid %d at %s", a.cmd.Process.Pid, baseA, b.cmd.Process.Pid, baseB)

	ctx, cancel := context.WithTimeout(t.Context(), clientsTimeout)
	defer cancel()
	script := filepath.Join("clients", "graphql-ws.mjs")
	cmd := exec.CommandContext(ctx, node, script, baseA, baseB,
		"--token", "demo-ada-token", "--actor-token", "demo-grace-token", "--task", "tsk_outbudget")
	cmd.Env = withoutTaskqlEnv(os.Environ())
	cmd.WaitDelay = 5 * time.Second
	clientStart := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (killed after %s)", err, clientsTimeout)
		}
		t.Fatalf("node %s: %v\nits output:\n%s\nA's log:\n%s\nB's log:\n%s", script, err, out, a.stderr.String(), b.stderr.String())
	}
	t.Logf("node %s passed in %s:", script, time.Since(clientStart).Round(time.Millisecond))
	var latencies []string
	for line := range strings.Lines(string(out)) {
		line = strings.TrimRight(line, "\n")
		if m := latencyLine.FindStringSubmatch(line); m != nil {
			latencies = append(latencies, m[1]+" "+m[2])
		}
		t.Log("  " + line)
	}
	if len(latencies) != 3 {
		t.Errorf("the script printed %d latencies, want 3 (assignUsers, unassignUser, setTaskAssignee)", len(latencies))
	}
	t.Logf("latencies from A's HTTP answer to the message on B: %s", strings.Join(latencies, ", "))
	a.stop(t)
	b.stop(t)
	t.Logf("in all %s, the build included", time.Since(started).Round(time.Millisecond))
}

// requireNodeClients returns the path of node, and makes sure clients/node_modules holds the
// packages. Without them the test skips, loudly, or fails when CI=true (CI runs npm ci first).
func requireNodeClients(t *testing.T, packages ...string) string {
	t.Helper()
	missing := func(what string) {
		t.Helper()
		msg := fmt.Sprintf("%s: run `npm ci --prefix clients` (Node 20 or later) before the Go tests", what)
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (CI=true)", msg)
		}
		t.Skipf("\n*** SKIPPED: %s.\n*** This test runs the npm graphql-ws client against two taskql processes; CI=true makes this a failure.", msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not on the PATH")
	}
	for _, p := range packages {
		if _, err := os.Stat(filepath.Join("clients", "node_modules", p, "package.json")); err != nil {
			missing(fmt.Sprintf("clients/node_modules/%s is missing", p))
		}
	}
	return node
}

// buildTaskql builds the command into the test's directory, boundedly, and returns its path.
func buildTaskql(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), buildTimeout)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "taskql")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.WaitDelay = 5 * time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -o %s .: %v\n%s", bin, err, out)
	}
	return bin
}

// taskqlProcess is `taskql serve` running as an OS process of its own.
type taskqlProcess struct {
	cmd    *exec.Cmd
	stderr *testdb.Output // its log
	url    chan string    // the base URL it announced, once
	exited chan struct{}  // closed once it has exited and been waited for
	err    error          // Wait's result, once exited is closed

	mu     sync.Mutex
	stdout []string // what it printed so far, a line at a time
}

var taskqlAnnounce = regexp.MustCompile(`^taskql: playground at (http://127\.0\.0\.1:\d+)/ , API at http://127\.0\.0\.1:\d+/query$`)

// startTaskql starts `bin serve` on a loopback port the system picks, on the database url, in
// development mode, with the flags extra; the test's end stops it with SIGTERM (see stop).
func startTaskql(t *testing.T, bin, url string, extra ...string) *taskqlProcess {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--env", "development"}, extra...)...)
	cmd.Env = append(withoutTaskqlEnv(os.Environ()), "DATABASE_URL="+url)
	p := &taskqlProcess{cmd: cmd, stderr: &testdb.Output{}, url: make(chan string, 1), exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s serve: %v", bin, err)
	}
	read := make(chan struct{})
	go func() { // reads stdout to its end: the server never blocks on it
		defer close(read)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.mu.Lock()
			p.stdout = append(p.stdout, sc.Text())
			p.mu.Unlock()
			if m := taskqlAnnounce.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case p.url <- m[1]:
				default:
				}
			}
		}
	}()
	go func() {
		<-read // Wait closes the pipe: read it all first
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// waitForURL waits, at most listenTimeout, for the server to announce its URL, and returns the
// base URL.
func (p *taskqlProcess) waitForURL(t *testing.T) string {
	t.Helper()
	timeout := time.NewTimer(listenTimeout)
	defer timeout.Stop()
	select {
	case u := <-p.url:
		return u
	case <-p.exited:
		t.Fatalf("serve (pid %d) ended before printing its URL: %v\nstdout:\n%s\nstderr:\n%s",
			p.cmd.Process.Pid, p.err, strings.Join(p.lines(), "\n"), p.stderr.String())
	case <-timeout.C:
		t.Fatalf("serve (pid %d) printed no URL in %s; stdout:\n%s\nstderr:\n%s",
			p.cmd.Process.Pid, listenTimeout, strings.Join(p.lines(), "\n"), p.stderr.String())
	}
	return ""
}

// lines is what the process printed on stdout so far.
func (p *taskqlProcess) lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.stdout)
}

// printed is the first line of stdout that contains s, or "".
func (p *taskqlProcess) printed(s string) string {
	for _, l := range p.lines() {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// stop sends SIGTERM to the process by its id and waits for it to exit, at most stopTimeout,
// then kills it; it wants a clean exit. Stopping twice is stopping once.
func (p *taskqlProcess) stop(t *testing.T) {
	t.Helper()
	select {
	case <-p.exited:
		return
	default:
	}
	pid := p.cmd.Process.Pid
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		t.Errorf("SIGTERM to serve (pid %d): %v", pid, err)
	}
	select {
	case <-p.exited:
		if p.err != nil {
			t.Errorf("serve (pid %d) exited with %v after SIGTERM; its log:\n%s", pid, p.err, p.stderr.String())
		}
	case <-time.After(stopTimeout):
		_ = syscall.Kill(pid, syscall.SIGKILL)
		<-p.exited
		t.Errorf("serve (pid %d) had not exited %s after SIGTERM: killed", pid, stopTimeout)
	}
}

// withoutTaskqlEnv is env without the settings of serve and the Node script (TASKQL_*,
// DATABASE_URL, PORT), so that the caller's environment does not change what the test runs.
func withoutTaskqlEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "TASKQL_") || name == "DATABASE_URL" || name == "PORT" {
			continue
		}
		out = append(out, kv)
	}
	return out
}
