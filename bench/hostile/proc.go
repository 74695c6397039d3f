package main

// The server process, what it costs (CPU, RSS, from /proc), and the PostgreSQL helpers (psql, a
// private cluster for F11). Every process started here is stopped by its process id.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// clockTicks is sysconf(_SC_CLK_TCK): the unit of utime and stime in /proc/PID/stat.
const clockTicks = 100

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

// meter measures one finding on one server process: CPU (utime+stime) since it started, the peak
// RSS (VmHWM after a reset through clear_refs, and VmRSS sampled every 20 ms), and it kills the
// process when its RSS passes the limit.
type meter struct {
	srv       *server
	limitKB   int64
	cpu0      int64
	peakReset bool

	mu        sync.Mutex
	lastTicks int64
	lastHWM   int64 // kB
	maxRSS    int64 // kB, sampled
	killedKB  int64

	stopc chan struct{}
	done  chan struct{}
}

func startMeter(srv *server, limitMB int) (*meter, error) {
	m := &meter{srv: srv, limitKB: int64(limitMB) * 1024, stopc: make(chan struct{}), done: make(chan struct{})}
	m.peakReset = resetPeak(srv.pid) == nil
	t, err := readTicks(srv.pid)
	if err != nil {
		return nil, err
	}
	m.cpu0, m.lastTicks = t, t
	go m.watch()
	return m, nil
}

func (m *meter) watch() {
	defer close(m.done)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if rss, ok := m.sample(); ok && m.limitKB > 0 && rss > m.limitKB {
			m.mu.Lock()
			m.killedKB = rss
			m.mu.Unlock()
			m.srv.kill()
			return
		}
		select {
		case <-m.stopc:
			return
		case <-m.srv.exited:
			return
		case <-tick.C:
		}
	}
}

// sample reads the process's CPU and memory once; it keeps the last values read, so that figures
// survive the process's death.
func (m *meter) sample() (rssKB int64, ok bool) {
	t, errT := readTicks(m.srv.pid)
	rss, hwm, errM := readMem(m.srv.pid)
	m.mu.Lock()
	defer m.mu.Unlock()
	if errT == nil {
		m.lastTicks = t
	}
	if errM != nil {
		return 0, false
	}
	m.lastHWM = hwm
	m.maxRSS = max(m.maxRSS, rss)
	return rss, true
}

func (m *meter) close() {
	close(m.stopc)
	<-m.done
}

// cpuSeconds is the server's CPU time since the meter started.
func (m *meter) cpuSeconds() float64 {
	m.sample()
	m.mu.Lock()
	defer m.mu.Unlock()
	return float64(m.lastTicks-m.cpu0) / clockTicks
}

// peakMB is the server's peak RSS since the meter started (MiB).
func (m *meter) peakMB() float64 {
	m.sample()
	m.mu.Lock()
	defer m.mu.Unlock()
	peak := m.maxRSS
	if m.peakReset {
		peak = max(peak, m.lastHWM)
	}
	return float64(peak) / 1024
}

// rssMB is the server's RSS now (MiB), or -1 when it cannot be read.
func (m *meter) rssMB() float64 {
	rss, _, err := readMem(m.srv.pid)
	if err != nil {
		return -1
	}
	return float64(rss) / 1024
}

func (m *meter) killedAtMB() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.killedKB / 1024
}

// readTicks is utime+stime of the process, in clock ticks (fields 14 and 15 of /proc/PID/stat).
func readTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, errors.New("short /proc/PID/stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("bad utime/stime in /proc/PID/stat")
	}
	return ut + st, nil
}

// readMem is VmRSS and VmHWM of the process, in kB.
func readMem(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	var haveRSS bool
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			continue
		}
		if k == "VmRSS" {
			rss, haveRSS = n, true
		} else {
			hwm = n
		}
	}
	if !haveRSS {
		return 0, 0, errors.New("no VmRSS (process gone?)")
	}
	return rss, hwm, nil
}

// resetPeak resets the process's VmHWM to its current RSS.
func resetPeak(pid int) error {
	f, err := os.OpenFile(fmt.Sprintf("/proc/%d/clear_refs", pid), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.Write([]byte("5"))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// psql runs one SQL string with psql on the shared PostgreSQL server, as user postgres.
func psql(ctx context.Context, db, sql string) (string, error) {
	cmd := exec.CommandContext(ctx, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
		"-h", pgHost, "-p", pgPort, "-U", "postgres", "-d", db, "-c", sql)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=5")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("psql: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// cluster is a private PostgreSQL cluster (F11), owned by the postgres OS user, in a temp dir.
type cluster struct {
	bin  string // directory of initdb and pg_ctl
	dir  string // temp dir: socket, log, and data/
	data string
	port int
}

// newCluster initdb's a private cluster and starts it on 127.0.0.1:port.
func newCluster(ctx context.Context, bin string, port int) (*cluster, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if ln, err := net.Listen("tcp", addr); err != nil {
		return nil, fmt.Errorf("private cluster port %d is busy: %w", port, err)
	} else {
		ln.Close()
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	dir, err := os.MkdirTemp("", "taskql-f11-")
	if err != nil {
		return nil, err
	}
	c := &cluster{bin: bin, dir: dir, data: filepath.Join(dir, "data"), port: port}
	if err := os.Chown(dir, uid, gid); err != nil {
		c.remove()
		return nil, err
	}
	ictx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ictx, "runuser", "-u", "postgres", "--",
		filepath.Join(bin, "initdb"), "-D", c.data, "-A", "trust", "-U", "postgres").CombinedOutput()
	if err != nil {
		c.remove()
		return nil, fmt.Errorf("initdb: %v: %s", err, tailString(string(out), 400))
	}
	if err := c.start(ctx); err != nil {
		c.remove()
		return nil, err
	}
	return c, nil
}

func (c *cluster) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres", c.port)
}

func (c *cluster) pgctl(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	full := append([]string{"-u", "postgres", "--", filepath.Join(c.bin, "pg_ctl"), "-D", c.data}, args...)
	out, err := exec.CommandContext(ctx, "runuser", full...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %v: %s", args[len(args)-1], err, tailString(string(out), 400))
	}
	return nil
}

func (c *cluster) start(ctx context.Context) error {
	return c.pgctl(ctx, "-l", filepath.Join(c.dir, "postgres.log"), "-w", "-t", "60",
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", c.port, c.dir), "start")
}

func (c *cluster) stop(ctx context.Context, mode string) error {
	return c.pgctl(ctx, "-m", mode, "-w", "-t", "60", "stop")
}

func (c *cluster) running() bool {
	_, err := os.Stat(filepath.Join(c.data, "postmaster.pid"))
	return err == nil
}

// remove stops the cluster if it runs and deletes its directory. It does not depend on the
// caller's context, so that it also runs after a Ctrl-C.
func (c *cluster) remove() {
	ctx := context.Background()
	if c.running() {
		if err := c.stop(ctx, "fast"); err != nil {
			logf("F11: stopping the private cluster: %v; trying -m immediate", err)
			_ = c.stop(ctx, "immediate")
		}
	}
	if c.running() {
		logf("F11: the private cluster in %s still runs; not removing it", c.dir)
		return
	}
	_ = os.RemoveAll(c.dir)
}

func tailString(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}
