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
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
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

// knownFinding says whether s, an entry of --only, selects any finding.
func knownFinding(s string) bool {
	for _, f := range findings {
		if (config{only: []string{s}}).selects(f.id) {
			return true
		}
	}
	return false
}
