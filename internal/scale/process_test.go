package scale

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taskql/taskql/internal/testdb"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testdb.RemoveBinary()
	os.Exit(code)
}

// binary is the module's command, built once for the package.
func binary(t *testing.T) string { return testdb.Binary(t) }

// database creates the database name on the cluster and returns its URL.
func database(t *testing.T, c *testdb.Cluster, name string) string {
	t.Helper()
	if err := c.Exec(t.Context(), "postgres", "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	return c.URL(name)
}

// environ is this process's environment without taskql's settings, plus env.
func environ(env ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "TASKQL_") && name != "DATABASE_URL" && name != "PORT" {
			out = append(out, kv)
		}
	}
	return append(out, env...)
}

// taskql runs one of taskql's commands (seed, token revoke) with env, at most a minute, and
// returns what it printed.
func taskql(t *testing.T, env []string, args ...string) string {
	t.Helper()
	bin := binary(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = environ(env...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("taskql %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// server is a `taskql serve` child process in development mode (its /metrics on its address).
type server struct {
	name   string
	cmd    *exec.Cmd
	base   string      // http://127.0.0.1:PORT, once it serves
	urls   chan string // the address it announces
	stderr *testdb.Output
	exited chan struct{}
	err    error
}

var announce = regexp.MustCompile(`^taskql: playground at (http://127\.0\.0\.1:\d+)/ ,`)

// startServers starts n servers at once with env and args (beyond --addr and --no-demo), and
// returns once each serves, at most a minute.
func startServers(t *testing.T, n int, env []string, args ...string) []*server {
	t.Helper()
	servers := make([]*server, n)
	for i := range servers {
		servers[i] = startServer(t, fmt.Sprintf("P%d", i+1), env, args...)
	}
	for _, s := range servers {
		s.waitForURL(t)
	}
	return servers
}

// startServer starts a server; waitForURL waits for it to serve.
func startServer(t *testing.T, name string, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"serve", "--addr", "127.0.0.1:0", "--no-demo"}, args...)...)
	cmd.Env = environ(env...)
	s := &server{name: name, cmd: cmd, urls: make(chan string, 1), stderr: &testdb.Output{}, exited: make(chan struct{})}
	cmd.Stderr = s.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start taskql serve: %v", err)
	}
	read := make(chan struct{})
	go func() { // reads stdout to its end: the server never blocks on it
		defer close(read)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := announce.FindStringSubmatch(sc.Text()); m != nil {
				s.urls <- m[1]
			}
		}
	}()
	go func() {
		<-read
		s.err = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() { s.stop(t) })
	return s
}

// waitForURL waits, at most a minute, for the server to announce its address.
func (s *server) waitForURL(t *testing.T) {
	t.Helper()
	select {
	case s.base = <-s.urls:
	case <-s.exited:
		t.Fatalf("%s exited before serving: %v\n%s", s.name, s.err, s.stderr)
	case <-time.After(time.Minute):
		t.Fatalf("%s did not announce its address within a minute\n%s", s.name, s.stderr)
	}
}

// stop sends SIGTERM to the server by its process id, waits at most 15 s, then kills it.
func (s *server) stop(t *testing.T) {
	select {
	case <-s.exited:
		return
	default:
	}
	pid := s.cmd.Process.Pid
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		t.Errorf("SIGTERM to %s (pid %d): %v", s.name, pid, err)
	}
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(pid, syscall.SIGKILL)
		<-s.exited
		t.Errorf("%s (pid %d) had not exited 15 s after SIGTERM: killed", s.name, pid)
	}
}

// metric reads one series without labels from the server's /metrics; absent, it is 0.
func (s *server) metric(t *testing.T, name string) float64 {
	t.Helper()
	resp, err := http.Get(s.base + "/metrics")
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

// waitMetric polls the server's metric until ok holds, for at most d.
func (s *server) waitMetric(t *testing.T, name string, d time.Duration, ok func(float64) bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for v := s.metric(t, name); !ok(v); v = s.metric(t, name) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s is %v after %s\n%s", s.name, name, v, d, s.stderr)
		}
		time.Sleep(10 * time.Millisecond) // another process's counter: nothing to wait on
	}
}
