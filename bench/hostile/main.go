// Command hostile sends each hostile request of the security review (findings F1–F13) to a real
// taskql server process and reports, per finding, the status and GraphQL extensions.code answered,
// the CPU seconds and peak RSS the server process spent on it (from /proc), the wall time, and
// whether a normal request is answered right after. See README.md in this directory.
//
//	go build -o /tmp/taskql . && go build -o /tmp/hostile ./bench/hostile
//	/tmp/hostile --bin /tmp/taskql --db sqlite > before-sqlite.md
//	/tmp/hostile --bin /tmp/taskql --db postgres --f11 --json before-postgres.json > before-postgres.md
//
// Linux only (it reads /proc/PID/stat and /proc/PID/status), and as root for /proc/PID/clear_refs
// and for F11's private PostgreSQL cluster.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

const (
	adaToken    = "demo-ada-token" // org admin of the demo world
	edToken     = "demo-ed-token"  // a user whose access is not approved
	viewerQuery = `{ viewer { id } }`

	pgHost = "127.0.0.1" // the shared PostgreSQL server (--db postgres)
	pgPort = "5432"
)

type config struct {
	bin        string
	db         string
	port       int
	serverArgs []string
	only       []string
	timeout    time.Duration
	rssLimitMB int
	f11        bool
	f11Port    int
	pgBin      string
	jsonPath   string
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, " ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func parseFlags(args []string) (config, error) {
	var cfg config
	var only string
	var serverArgs stringList
	fs := flag.NewFlagSet("hostile", flag.ContinueOnError)
	fs.StringVar(&cfg.bin, "bin", "", "taskql binary to run (`PATH`, built with `go build -o PATH .`)")
	fs.StringVar(&cfg.db, "db", "sqlite", "database: sqlite (a fresh file) or postgres (a fresh database on 127.0.0.1:5432)")
	fs.IntVar(&cfg.port, "port", 18111, "port the server listens on, on 127.0.0.1")
	fs.Var(&serverArgs, "server-arg", "extra argument passed to `serve` (repeatable)")
	fs.StringVar(&only, "only", "", "comma-separated findings to run, e.g. F1,F3 (F3 runs F3a, F3b and F3c; F3b only that one)")
	fs.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "timeout of each hostile request")
	fs.IntVar(&cfg.rssLimitMB, "rss-limit", 4000, "kill the server when its RSS passes this many MB")
	fs.BoolVar(&cfg.f11, "f11", false, "run F11: a private PostgreSQL cluster is created, stopped and restarted (--db postgres)")
	fs.IntVar(&cfg.f11Port, "f11-port", 15499, "port of F11's private PostgreSQL cluster")
	fs.StringVar(&cfg.pgBin, "pg-bin", "/usr/lib/postgresql/15/bin", "directory of initdb and pg_ctl (F11)")
	fs.StringVar(&cfg.jsonPath, "json", "", "also write the results as JSON to `PATH`")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.serverArgs = serverArgs
	if cfg.bin == "" {
		return cfg, errors.New("--bin is required")
	}
	if st, err := os.Stat(cfg.bin); err != nil || st.IsDir() {
		return cfg, fmt.Errorf("--bin %s: not a file", cfg.bin)
	}
	if cfg.db != "sqlite" && cfg.db != "postgres" {
		return cfg, fmt.Errorf("--db must be sqlite or postgres, not %q", cfg.db)
	}
	if cfg.timeout <= 0 || cfg.port <= 0 || cfg.port > 65535 {
		return cfg, errors.New("--timeout and --port must be positive")
	}
	for _, s := range strings.Split(only, ",") {
		if s = strings.TrimSpace(s); s != "" {
			if !knownFinding(s) {
				return cfg, fmt.Errorf("--only: unknown finding %q (F1 … F13, or a part such as F3b)", s)
			}
			cfg.only = append(cfg.only, s)
		}
	}
	return cfg, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, cfg)
	stop()
	os.Exit(code)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s hostile: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func run(ctx context.Context, cfg config) int {
	h, err := newHarness(ctx, cfg)
	if err != nil {
		logf("%v", err)
		return 1
	}
	defer h.close()
	if err := h.discover(ctx); err != nil {
		logf("discovering ids through the API: %v", err)
		return 1
	}
	started := time.Now()
	var results []result
	for _, f := range findings {
		if !cfg.selects(f.id) {
			continue
		}
		if ctx.Err() != nil {
			results = append(results, result{ID: f.id, Request: f.request, Status: "not run (interrupted)"})
			continue
		}
		logf("%s: %s", f.id, f.request)
		r := h.runFinding(ctx, f)
		logf("%s: %s", f.id, r.Status)
		results = append(results, r)
	}
	rep := h.report(started, results)
	writeMarkdown(os.Stdout, rep)
	if cfg.jsonPath != "" {
		if err := writeJSONFile(cfg.jsonPath, rep); err != nil {
			logf("--json: %v", err)
			return 1
		}
	}
	if ctx.Err() != nil {
		return 130
	}
	return 0
}

// selects says whether --only asks for the finding: "F3" selects F3, F3a, F3b, F3c; "F3b" only
// F3b; "F1" does not select F10.
func (cfg config) selects(id string) bool {
	if len(cfg.only) == 0 {
		return true
	}
	for _, s := range cfg.only {
		s = strings.ToUpper(s[:1]) + strings.ToLower(s[1:])
		if id == s || (strings.HasPrefix(id, s) && len(id) == len(s)+1 && id[len(s)] >= 'a' && id[len(s)] <= 'z') {
			return true
		}
	}
	return false
}

func knownFinding(s string) bool {
	for _, f := range findings {
		if (config{only: []string{s}}).selects(f.id) {
			return true
		}
	}
	return false
}

// harness owns what this tool creates: a temp dir, the database, the running server.
type harness struct {
	cfg     config
	tmp     string
	dbURL   string
	pgDB    string // the fresh PostgreSQL database, when --db postgres
	cluster *cluster
	ids     ids
}

// ids are demo-world ids discovered through the API.
type ids struct {
	task, project, assignee string // a task that has an assignee
}

func newHarness(ctx context.Context, cfg config) (*harness, error) {
	tmp, err := os.MkdirTemp("", "taskql-hostile-")
	if err != nil {
		return nil, err
	}
	h := &harness{cfg: cfg, tmp: tmp}
	switch cfg.db {
	case "sqlite":
		h.dbURL = "sqlite:" + filepath.Join(tmp, "taskql.db")
	case "postgres":
		h.pgDB = "taskql_hostile_" + randomHex(4)
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if _, err := psql(cctx, "postgres", "CREATE DATABASE "+h.pgDB); err != nil {
			h.pgDB = ""
			h.close()
			return nil, err
		}
		h.dbURL = fmt.Sprintf("postgres://postgres@%s:%s/%s", pgHost, pgPort, h.pgDB)
	}
	logf("database %s", h.dbURL)
	return h, nil
}

// close drops the database and removes the temp dir; it does not depend on a context that a
// Ctrl-C cancelled.
func (h *harness) close() {
	if h.pgDB != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := psql(ctx, "postgres", "DROP DATABASE IF EXISTS "+h.pgDB+" WITH (FORCE)"); err != nil {
			logf("dropping database %s: %v", h.pgDB, err)
		} else {
			logf("dropped database %s", h.pgDB)
		}
	}
	_ = os.RemoveAll(h.tmp)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// discover starts the server once (which migrates the empty database and loads the demo world)
// and finds a task with an assignee through the API, as the admin.
func (h *harness) discover(ctx context.Context) error {
	srv, err := h.startServer(ctx, h.dbURL)
	if err != nil {
		return err
	}
	defer srv.stop()
	if !strings.Contains(srv.stdout.tail(sinkKeep), adaToken) {
		logf("note: the server did not print %s on start; using it anyway", adaToken)
	}
	const q = `{ tasks(first: 50) { nodes { id project { id } assignees { id } } } }`
	r := postGraphQL(ctx, newClient(10*time.Second), srv.base, gqlBody(q, nil), adaToken, nil)
	if !r.ok() {
		return fmt.Errorf("%s answered %s: %s", q, r.label(), tailString(string(r.Body), 300))
	}
	var data struct {
		Data struct {
			Tasks struct {
				Nodes []struct {
					ID        string
					Project   struct{ ID string }
					Assignees []struct{ ID string }
				}
			}
		}
	}
	if err := json.Unmarshal(r.Body, &data); err != nil {
		return err
	}
	for _, t := range data.Data.Tasks.Nodes {
		if len(t.Assignees) > 0 {
			h.ids = ids{task: t.ID, project: t.Project.ID, assignee: t.Assignees[0].ID}
			logf("ids: task %s (project %s) assigned to %s", t.ID, t.Project.ID, t.Assignees[0].ID)
			return nil
		}
	}
	logf("note: no task with an assignee among the first 50; F10 cannot run")
	return nil
}

// finding is one entry of the review: what it sends, and the function that sends it.
type finding struct {
	id      string
	request string
	// skip, when it returns a reason, skips the finding without starting a server.
	skip func(cfg config) string
	// setup, when set, prepares what the finding needs and returns the database URL to run the
	// server on (F11's private cluster); cleanup runs after the server has stopped.
	setup func(ctx context.Context, h *harness) (dbURL string, cleanup func(), err error)
	run   func(t *trial)
}

// result is one row of the report.
type result struct {
	ID      string         `json:"finding"`
	Request string         `json:"request"`
	Status  string         `json:"status"`
	CPU     *float64       `json:"server_cpu_s,omitempty"`
	PeakRSS *float64       `json:"peak_rss_mb,omitempty"`
	Wall    *float64       `json:"wall_s,omitempty"`
	NextOK  string         `json:"next_request_ok,omitempty"`
	Notes   []string       `json:"notes,omitempty"`
	Extra   map[string]any `json:"extra,omitempty"`
}

// trial is one finding running against one fresh server process.
type trial struct {
	ctx    context.Context
	h      *harness
	srv    *server
	m      *meter
	client *http.Client // hostile requests: --timeout
	start  time.Time
	res    *result

	frozen  bool
	wallSet bool
}

// runFinding restarts the server fresh (same database), checks it answers, measures the finding,
// then checks whether a normal request is answered right after, and stops the server.
func (h *harness) runFinding(ctx context.Context, f finding) result {
	res := result{ID: f.id, Request: f.request}
	if f.skip != nil {
		if reason := f.skip(h.cfg); reason != "" {
			res.Status = "skipped"
			res.Notes = []string{reason}
			return res
		}
	}
	dbURL := h.dbURL
	if f.setup != nil {
		url, cleanup, err := f.setup(ctx, h)
		if err != nil {
			res.Status = "not measured: setup failed"
			res.Notes = []string{err.Error()}
			return res
		}
		defer cleanup()
		dbURL = url
	}
	srv, err := h.startServer(ctx, dbURL)
	if err != nil {
		res.Status = "not measured: server did not start"
		res.Notes = []string{err.Error()}
		return res
	}
	defer srv.stop()
	if r := h.normal(ctx, srv, 10*time.Second); !r.ok() {
		res.Status = "not measured: warm-up request answered " + r.label()
		return res
	}
	m, err := startMeter(srv, h.cfg.rssLimitMB)
	if err != nil {
		res.Status = "not measured: " + err.Error()
		return res
	}
	if !m.peakReset {
		res.Notes = append(res.Notes, "could not reset VmHWM (clear_refs): peak RSS is sampled every 20 ms")
	}
	t := &trial{ctx: ctx, h: h, srv: srv, m: m, client: newClient(h.cfg.timeout), start: time.Now(), res: &res}
	f.run(t)
	t.freeze()
	m.close()

	killed := m.killedAtMB() > 0
	if killed {
		select { // reaped, so that the next request is not sent to a dying process
		case <-srv.exited:
		case <-time.After(10 * time.Second):
		}
		res.Notes = append([]string{"the request saw: " + res.Status}, res.Notes...)
		res.Status = fmt.Sprintf("killed at %d MB", m.killedAtMB())
	} else if note := srv.exitNote(); note != "" {
		res.Notes = append(res.Notes, note)
	}
	if strings.Contains(res.Status, "timeout") {
		res.Notes = append(res.Notes, "server restarted after the timeout")
	}
	if ctx.Err() != nil {
		res.Notes = append(res.Notes, "interrupted (Ctrl-C): figures are partial")
	}
	switch {
	case killed:
		res.NextOK = "no (server killed)"
	case !srv.alive():
		res.NextOK = "no (server gone)"
	case ctx.Err() != nil:
		res.NextOK = "not checked"
	default:
		r := h.normal(ctx, srv, 10*time.Second)
		if r.ok() {
			res.NextOK = fmt.Sprintf("yes (%.2f s)", r.Wall.Seconds())
		} else {
			res.NextOK = fmt.Sprintf("no: %s after %.1f s", r.label(), r.Wall.Seconds())
		}
	}
	return res
}

// normal is the normal request: { viewer { id } } as the admin.
func (h *harness) normal(ctx context.Context, srv *server, timeout time.Duration) reply {
	return postGraphQL(ctx, newClient(timeout), srv.base, gqlBody(viewerQuery, nil), adaToken, nil)
}

// freeze ends the measured part of the finding: CPU, peak RSS and wall time are taken now (a
// finding may go on afterwards, e.g. to read the idle RSS). Only the first call counts.
func (t *trial) freeze() {
	if t.frozen {
		return
	}
	t.frozen = true
	cpu, peak := t.m.cpuSeconds(), t.m.peakMB()
	t.res.CPU, t.res.PeakRSS = &cpu, &peak
	if !t.wallSet {
		wall := time.Since(t.start).Seconds()
		t.res.Wall = &wall
	}
}

// setWall reports this wall time instead of the finding's (F4: the normal request's).
func (t *trial) setWall(d time.Duration) {
	w := d.Seconds()
	t.res.Wall, t.wallSet = &w, true
}

func (t *trial) post(body []byte, token string, hdr http.Header) reply {
	return postGraphQL(t.ctx, t.client, t.srv.base, body, token, hdr)
}

// send posts one query as the admin and reports its reply as the finding's status.
func (t *trial) send(query string, vars map[string]any) reply {
	r := t.post(gqlBody(query, vars), adaToken, nil)
	t.reportReply(r)
	return r
}

func (t *trial) reportReply(r reply) {
	t.res.Status = r.label()
	if r.Status != 0 {
		t.extra("response_bytes", r.Size)
	}
	if g, ok := r.gql(); ok && len(g.Errors) > 0 {
		t.note("message: %s", clip(g.Errors[0].Message, 100))
	}
}

func (t *trial) note(format string, args ...any) {
	t.res.Notes = append(t.res.Notes, fmt.Sprintf(format, args...))
}

func (t *trial) extra(k string, v any) {
	if t.res.Extra == nil {
		t.res.Extra = map[string]any{}
	}
	t.res.Extra[k] = v
}

// sleep waits d, or less on Ctrl-C (false then).
func (t *trial) sleep(d time.Duration) bool {
	select {
	case <-time.After(d):
		return true
	case <-t.ctx.Done():
		return false
	}
}

// clip shortens s to at most n bytes, at a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
