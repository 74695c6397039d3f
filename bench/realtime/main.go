// Command realtime measures taskql's real-time delivery (Subscription.taskAssigneesChanged over
// WebSocket, graphql-transport-ws) between two real `taskql serve` processes on one fresh
// PostgreSQL database, and prints a Markdown report: the latency of one change across processes
// and within one, the fan-out of one change to many subscribers (time to the last, RSS per
// subscriber, CPU), and the throughput of paced changes fanned out to them. See README.md.
//
//	go build -o /tmp/taskql-rt . && go run ./bench/realtime --bin /tmp/taskql-rt > results.md
//
// Linux only: it reads /proc for the servers' CPU and memory and the machine's load.
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

// The demo world the first server loads into the empty database (internal/seed/demo.go).
const (
	adaToken   = "demo-ada-token" // usr_ada, org admin of Acme
	adaUser    = "usr_ada"
	latTask    = "tsk_outbudget" // internal phase of prj_outreach; Katherine is its assignee
	fanProject = "prj_outreach"
)

// fanTokens see every task of prj_outreach, internal phase included: Ada as org admin, Grace and
// Katherine as agency members of the project. Subscribers are spread over them.
var fanTokens = []string{"demo-ada-token", "demo-grace-token", "demo-katherine-token"}

// rateTasks are the tasks of prj_outreach the throughput test changes, one mutator each; Ada may
// be assigned to all of them and is assigned to none in the demo world.
var rateTasks = []string{"tsk_outbudget", "tsk_outcontacts", "tsk_outreply", "tsk_outcleanup"}

type config struct {
	bin          string
	subscribers  int
	changes      int
	rate         float64
	duration     time.Duration
	dbURLBase    string
	serverArgs   []string
	document     string
	fanoutRounds int
	dialers      int
	wait         time.Duration
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, " ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func parseFlags(args []string) (config, error) {
	var cfg config
	var serverArgs stringList
	fs := flag.NewFlagSet("realtime", flag.ContinueOnError)
	fs.StringVar(&cfg.bin, "bin", "", "taskql binary to run (`PATH`, built with `go build -o PATH .`)")
	fs.IntVar(&cfg.subscribers, "subscribers", 1000, "WebSocket subscribers of the fan-out and throughput tests")
	fs.IntVar(&cfg.changes, "changes", 200, "mutations of each latency test, one at a time")
	fs.Float64Var(&cfg.rate, "rate", 100, "changes per second of the throughput test")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "how long the throughput test sends changes")
	fs.StringVar(&cfg.dbURLBase, "db-url-base", "postgres://postgres@127.0.0.1:5432/postgres",
		"PostgreSQL `URL` on which a fresh database taskql_rt_<random> is created (and dropped at the end)")
	fs.Var(&serverArgs, "server-arg", "extra argument passed to both `serve` processes (repeatable)")
	fs.StringVar(&cfg.document, "document", "light", "subscription selection: light (what the change carries) or full (also task { assignees { id } })")
	fs.IntVar(&cfg.fanoutRounds, "fanout-rounds", 5, "single changes of the fan-out test, one after the other")
	fs.IntVar(&cfg.dialers, "dialers", 50, "subscribers connecting at once")
	fs.DurationVar(&cfg.wait, "wait", 30*time.Second, "longest wait for any one delivery, connection or drain")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.serverArgs = serverArgs
	return cfg, cfg.check()
}

func (cfg config) check() error {
	if cfg.bin == "" {
		return errors.New("--bin is required")
	}
	if st, err := os.Stat(cfg.bin); err != nil || st.IsDir() {
		return fmt.Errorf("--bin %s: not a file", cfg.bin)
	}
	if cfg.subscribers < 1 || cfg.changes < 1 || cfg.rate <= 0 || cfg.duration <= 0 || cfg.fanoutRounds < 1 ||
		cfg.dialers < 1 || cfg.wait <= 0 {
		return errors.New("--subscribers, --changes, --rate, --duration, --fanout-rounds, --dialers and --wait must be positive")
	}
	if cfg.document != "light" && cfg.document != "full" {
		return fmt.Errorf("--document must be light or full, not %q", cfg.document)
	}
	return nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "realtime:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, cfg)
	stop()
	os.Exit(code)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s realtime: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// run sets up the database and the two servers, runs the three tests and prints what ran, also
// when a test failed or the run was interrupted; everything started is stopped on the way out.
func run(ctx context.Context, cfg config) int {
	rep := newReport(cfg)
	if err := raiseFileLimit(cfg.subscribers); err != nil {
		logf("open-file limit: %v", err)
	}
	env, err := setUp(ctx, cfg, rep)
	if env != nil {
		defer env.tearDown()
	}
	if err == nil {
		err = env.runTests(ctx, rep)
	}
	rep.finish()
	rep.write(os.Stdout)
	switch {
	case ctx.Err() != nil:
		logf("interrupted")
		return 130
	case err != nil:
		logf("%v", err)
		return 1
	}
	return 0
}

// raiseFileLimit sets the soft open-file limit to the hard one, for this process and the servers
// it starts. Go raises its own soft limit at start but gives children the original one back,
// unless the program calls Setrlimit itself, as here: the servers inherit the raised limit.
func raiseFileLimit(subscribers int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if need := uint64(subscribers) + 256; lim.Max < need {
		return fmt.Errorf("the hard limit %d is below the %d descriptors needed", lim.Max, need)
	}
	return nil
}
