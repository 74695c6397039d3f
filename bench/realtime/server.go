package main

// The server processes under test: started with their own process group, their printed address
// read from stdout, checked through /healthz, and stopped by their process id.

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// server is one running `taskql serve` process.
type server struct {
	name    string
	pid     int
	base    string // http://127.0.0.1:port
	out     *logSink
	exited  chan struct{} // closed once the process has exited and been reaped
	waitErr error         // valid once exited is closed
}

// apiLine is how serve announces where it listens (serve.go, announce).
var apiLine = regexp.MustCompile(`API at (http://\S+)/query`)

// startServer starts BIN serve on 127.0.0.1 with a port of the kernel's choosing, reads the
// address it prints, and waits (at most wait) until GET /healthz answers 200.
func startServer(ctx context.Context, cfg config, name, dbURL string) (*server, error) {
	cmd := exec.Command(cfg.bin, serveArgs(cfg)...)
	cmd.Env = append(serverEnv(os.Environ()), "DATABASE_URL="+dbURL)
	s := &server{name: name, out: &logSink{addr: make(chan string, 1)}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	// Its own process group: a Ctrl-C at the terminal reaches only this tool, which then stops
	// the server itself. Pdeathsig: should this tool die, the kernel kills the server.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s.pid = cmd.Process.Pid
	go func() { s.waitErr = cmd.Wait(); close(s.exited) }()
	if err := s.waitReady(ctx, cfg.wait+30*time.Second); err != nil {
		s.stop()
		return nil, fmt.Errorf("server %s: %w", name, err)
	}
	logf("server %s: pid %d at %s", name, s.pid, s.base)
	return s, nil
}

// serveArgs are the arguments of both servers: a port of the kernel's choosing on loopback, room
// for every subscriber on one token, then --server-arg's (a later flag wins).
func serveArgs(cfg config) []string {
	args := []string{"serve", "--addr", "127.0.0.1:0",
		"--max-subscriptions-per-token", strconv.Itoa(cfg.subscribers + 100)}
	return append(args, cfg.serverArgs...)
}

// serverEnv is the environment without the variables that would configure serve behind the
// flags' back.
func serverEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "TASKQL_") &&
			!strings.HasPrefix(kv, "PORT=") {
			out = append(out, kv)
		}
	}
	return out
}

func (s *server) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	select {
	case s.base = <-s.out.addr:
	case <-s.exited:
		return fmt.Errorf("exited on start (%v): %s", s.waitErr, s.out.tail(800))
	case <-ctx.Done():
		return ctx.Err()
	case <-deadline.C:
		return fmt.Errorf("printed no address within %v: %s", limit, s.out.tail(800))
	}
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/healthz", nil)
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("exited on start (%v): %s", s.waitErr, s.out.tail(800))
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return fmt.Errorf("/healthz not 200 within %v: %s", limit, s.out.tail(800))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// stop asks the server to stop (SIGTERM: it drains, closing WebSockets with 1001), kills it
// (SIGKILL) after 10 s, and waits at most 10 s more for it to be reaped.
func (s *server) stop() {
	if !s.alive() {
		return
	}
	_ = syscall.Kill(s.pid, syscall.SIGTERM)
	select {
	case <-s.exited:
		return
	case <-time.After(10 * time.Second):
	}
	logf("server %s (pid %d) did not stop on SIGTERM within 10 s: SIGKILL", s.name, s.pid)
	_ = syscall.Kill(s.pid, syscall.SIGKILL)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		logf("server %s (pid %d) not reaped 10 s after SIGKILL", s.name, s.pid)
	}
}

// logSink keeps the last 32 KB of a process's output and hands on the first API address it
// prints.
type logSink struct {
	mu      sync.Mutex
	last    []byte
	partial []byte
	addr    chan string
	found   bool
}

const sinkKeep = 32 << 10

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last = append(l.last, p...)
	if len(l.last) > 2*sinkKeep {
		l.last = append([]byte(nil), l.last[len(l.last)-sinkKeep:]...)
	}
	if !l.found {
		l.partial = append(l.partial, p...)
		for {
			i := bytes.IndexByte(l.partial, '\n')
			if i < 0 {
				break
			}
			if m := apiLine.FindSubmatch(l.partial[:i]); m != nil {
				l.found = true
				l.addr <- string(m[1])
				l.partial = nil
				break
			}
			l.partial = l.partial[i+1:]
		}
	}
	return len(p), nil
}

func (l *logSink) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.last
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}

// warnings counts the lines of the output that log a warning or an error.
func (l *logSink) warnings() (n int, last string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range strings.Split(string(l.last), "\n") {
		if strings.Contains(line, " WARN ") || strings.Contains(line, " ERROR ") ||
			strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			n, last = n+1, line
		}
	}
	return n, last
}
