package main

// The server process under test: started, checked, stopped by its process id, and its output.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// server is one running `taskql serve` process.
type server struct {
	cmd     *exec.Cmd
	pid     int
	addr    string // 127.0.0.1:port
	base    string // http://127.0.0.1:port
	stdout  *logSink
	stderr  *logSink
	exited  chan struct{} // closed when the process has exited and been reaped
	waitErr error         // valid once exited is closed
}

// startServer starts BIN serve --addr 127.0.0.1:PORT [server args] on dbURL and waits (at most
// 30 s) until GET /healthz answers 200.
func (h *harness) startServer(ctx context.Context, dbURL string) (*server, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(h.cfg.port))
	if ln, err := net.Listen("tcp", addr); err != nil {
		return nil, fmt.Errorf("port %d is busy: %w", h.cfg.port, err)
	} else {
		ln.Close()
	}
	args := append([]string{"serve", "--addr", addr}, h.cfg.serverArgs...)
	cmd := exec.Command(h.cfg.bin, args...)
	cmd.Env = append(withoutEnv(os.Environ(), "DATABASE_URL"), "DATABASE_URL="+dbURL)
	s := &server{cmd: cmd, addr: addr, base: "http://" + addr, stdout: &logSink{}, stderr: &logSink{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = s.stdout, s.stderr
	// Its own process group: a Ctrl-C at the terminal reaches only this tool, which then stops the
	// server itself. Pdeathsig: should this tool die, the kernel kills the server.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s.pid = cmd.Process.Pid
	go func() { s.waitErr = cmd.Wait(); close(s.exited) }()

	c := newClient(2 * time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; i < 300 && time.Now().Before(deadline); i++ {
		select {
		case <-s.exited:
			return nil, fmt.Errorf("server exited on start (%v): %s", s.waitErr, s.stderr.tail(600))
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/healthz", nil)
		if r := do(c, req); r.Status == http.StatusOK {
			return s, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.stop()
	return nil, fmt.Errorf("server not ready within 30 s: %s", s.stderr.tail(600))
}

func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL to the server's process id.
func (s *server) kill() {
	if s.alive() {
		_ = syscall.Kill(s.pid, syscall.SIGKILL)
	}
}

// stop asks the server to stop (SIGTERM), then kills it after 3 s, and waits (at most 10 s) for it.
func (s *server) stop() {
	if !s.alive() {
		return
	}
	_ = syscall.Kill(s.pid, syscall.SIGTERM)
	select {
	case <-s.exited:
		return
	case <-time.After(3 * time.Second):
	}
	s.kill()
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
	}
}

// exitNote says how the server ended, for a note.
func (s *server) exitNote() string {
	if s.alive() {
		return ""
	}
	return fmt.Sprintf("server exited (%v)", s.waitErr)
}

func withoutEnv(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// logSink collects a process's output: how many lines, and the last 32 KB.
type logSink struct {
	mu    sync.Mutex
	lines int
	last  []byte
}

const sinkKeep = 32 << 10

// Write counts the lines of p and keeps the last sinkKeep bytes at least.
func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines += bytes.Count(p, []byte{'\n'})
	l.last = append(l.last, p...)
	if len(l.last) > 2*sinkKeep {
		l.last = append([]byte(nil), l.last[len(l.last)-sinkKeep:]...)
	}
	return len(p), nil
}

func (l *logSink) lineCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lines
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

// lastLine is the last complete line written, for a note.
func (l *logSink) lastLine() string {
	lines := strings.Split(strings.TrimRight(l.tail(4096), "\n"), "\n")
	return lines[len(lines)-1]
}
