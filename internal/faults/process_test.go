package faults

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
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

// runTaskql runs one of taskql's commands (seed, migrate) on the database url and returns what
// it printed.
func runTaskql(t *testing.T, url string, args ...string) string {
	t.Helper()
	bin := binary(t) // built first: the build has its own time bound
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+url)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("taskql %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// serveArgs is how every test serves: production mode, no rate limit, PostgreSQL's lock_timeout
// and SQLite's busy_timeout 3 s, and at most maxAssignees assignees a task, so that the
// writers meet the limit.
var serveArgs = []string{"serve", "--addr", "127.0.0.1:0", "--env", "production", "--rate-limit", "0",
	"--lock-timeout", "3s", "--max-assignees", fmt.Sprint(maxAssignees)}

// server is a `taskql serve` child process.
type server struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:PORT
	addr   string // 127.0.0.1:PORT
	stderr *testdb.Output

	exited   chan struct{} // closed when the process has exited
	exitErr  error
	exitedAt time.Time
}

// serverUser runs the server as another OS user (nil: as this process's).
type serverUser = syscall.Credential

// startServer starts the server on the database url, with serveArgs and then extra, and returns
// once it serves (it prints "taskql: API at http://HOST:PORT/query"). It is killed when the test
// ends if still running.
func startServer(t *testing.T, url string, as *serverUser, extra ...string) *server {
	t.Helper()
	cmd := exec.Command(binary(t), append(slices.Clone(serveArgs), extra...)...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+url, "TASKQL_LISTEN_DATABASE_URL=")
	cmd.Dir = os.TempDir()
	if as != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: as}
	}
	s := &server{cmd: cmd, stderr: &testdb.Output{}, exited: make(chan struct{})}
	cmd.Stderr = s.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start taskql serve: %v", err)
	}
	announced := make(chan string, 1)
	go readStdout(stdout, announced)
	go func() {
		s.exitErr = cmd.Wait()
		s.exitedAt = time.Now()
		close(s.exited)
	}()
	t.Cleanup(s.kill)
	select {
	case s.addr = <-announced:
		s.base = "http://" + s.addr
	case <-s.exited:
		t.Fatalf("taskql serve exited before serving: %v\n%s", s.exitErr, s.stderr)
	case <-time.After(time.Minute):
		t.Fatalf("taskql serve did not announce its address within a minute\n%s", s.stderr)
	}
	return s
}

var announceLine = regexp.MustCompile(`^taskql: API at http://(\S+)/query$`)

// readStdout sends the address the server announces, and reads on until the pipe closes so that
// the server never blocks on writing to it.
func readStdout(r io.Reader, announced chan<- string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if m := announceLine.FindStringSubmatch(sc.Text()); m != nil {
			select {
			case announced <- m[1]:
			default:
			}
		}
	}
}

// alive tells whether the process still runs.
func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// signal sends sig to the server's process.
func (s *server) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v to the server: %v", sig, err)
	}
}

// waitExit waits at most d for the process to exit and returns its exit code (-1: killed by a
// signal, or still running when ok is false).
func (s *server) waitExit(d time.Duration) (code int, ok bool) {
	select {
	case <-s.exited:
	case <-time.After(d):
		return -1, false
	}
	var ee *exec.ExitError
	switch {
	case s.exitErr == nil:
		return 0, true
	case errors.As(s.exitErr, &ee):
		return ee.ExitCode(), true
	}
	return -1, true
}

// stop ends a server that must still be running with SIGTERM, and checks that it drains and
// exits 0 within its 10 s.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if !s.alive() {
		t.Errorf("the server exited during the test (%v): it must never exit\n%s", s.exitErr, s.stderr)
		return
	}
	s.signal(t, syscall.SIGTERM)
	if code, ok := s.waitExit(15 * time.Second); !ok || code != 0 {
		t.Errorf("after SIGTERM the server exited %v with code %d, want 0 within 10 s", ok, code)
	}
}

// kill kills the process by its id if it still runs, and waits for it.
func (s *server) kill() {
	if !s.alive() {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// logLine is one JSON line of the server's log (production mode logs JSON on stderr).
type logLine struct {
	Time  time.Time `json:"time"`
	Level string    `json:"level"`
	Msg   string    `json:"msg"`
	raw   string
}

// logs are the lines the server logged so far; a line that is not JSON has only raw.
func (s *server) logs() []logLine {
	var lines []logLine
	for _, text := range strings.Split(strings.TrimSpace(s.stderr.String()), "\n") {
		if text == "" {
			continue
		}
		l := logLine{raw: text}
		_ = json.Unmarshal([]byte(text), &l)
		lines = append(lines, l)
	}
	return lines
}
