// Command taskql is a GraphQL API server that decides who works on a task (see README.md).
//
//	taskql [serve] [--addr :8080] [--no-demo]   serve the API (the default)
//	taskql migrate                              apply the schema migrations
//	taskql seed --demo | --file F.json          load the demo world or a fixture file
//	taskql token create --user ID               print a new token for a user, once
//	taskql token revoke --user ID               revoke every token of a user
//
// DATABASE_URL names the database: postgres://… for PostgreSQL, sqlite:PATH for an SQLite file;
// empty means the SQLite file taskql.db in the working directory.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/taskql/taskql/graph"
	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/seed"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "taskql:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, out)
	case "migrate":
		return migrateCmd(ctx, args, out)
	case "seed":
		return seedCmd(ctx, args, out)
	case "token":
		return tokenCmd(ctx, args, out)
	}
	return fmt.Errorf("unknown command %q (want serve, migrate, seed or token)", cmd)
}

// open connects to DATABASE_URL and applies the migrations.
func open(ctx context.Context, opts ...store.Option) (*store.Store, error) {
	st, err := store.Open(ctx, os.Getenv("DATABASE_URL"), opts...)
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return nil, err
	}
	return st, nil
}

// config is everything `serve` reads from its flags and TASKQL_* variables (README, Configuration).
type config struct {
	addr            string
	production      bool
	noDemo          bool
	maxAssignees    int
	cors            string
	maxInFlight     int
	limits          graph.Limits
	timeouts        store.Timeouts
	ratePerSecond   float64
	rateBurst       int
	trustedDocsPath string
}

// parseServe reads serve's configuration. Every limit of DESIGN §7 has a flag and a TASKQL_*
// variable; the flag wins.
func parseServe(args []string) (config, error) {
	c := config{limits: graph.DefaultLimits, timeouts: store.DefaultTimeouts}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	env := fs.String("env", envString("TASKQL_ENV", "development"), "`development` (playground, introspection, suggestions) or production")
	fs.StringVar(&c.addr, "addr", defaultAddr(), "address to listen on (default :$PORT, else :8080)")
	fs.BoolVar(&c.noDemo, "no-demo", os.Getenv("TASKQL_NO_DEMO") != "", "do not load the demo world into an empty database")
	fs.IntVar(&c.maxAssignees, "max-assignees", envInt("TASKQL_MAX_ASSIGNEES", rules.DefaultMaxAssignees), "most assignees a task may hold")
	fs.StringVar(&c.cors, "cors-origins", os.Getenv("TASKQL_CORS_ORIGINS"), "comma-separated browser origins allowed to call the API (`https://app.example,...` or *)")
	fs.IntVar(&c.maxInFlight, "max-inflight", envInt("TASKQL_MAX_INFLIGHT", 4*runtime.GOMAXPROCS(0)), "most requests executed at once; the others wait their turn until their deadline")
	l := &c.limits
	fs.Int64Var(&l.BodyBytes, "max-body-bytes", int64(envInt("TASKQL_MAX_BODY_BYTES", int(l.BodyBytes))), "largest request body (HTTP 413)")
	fs.IntVar(&l.Tokens, "max-tokens", envInt("TASKQL_MAX_TOKENS", l.Tokens), "most parser tokens in a document")
	fs.IntVar(&l.Depth, "max-depth", envInt("TASKQL_MAX_DEPTH", l.Depth), "deepest nesting of fields")
	fs.IntVar(&l.Selections, "max-selections", envInt("TASKQL_MAX_SELECTIONS", l.Selections), "most fields, aliases and fragment spreads in a document, as written")
	fs.IntVar(&l.RootMutations, "max-mutations", envInt("TASKQL_MAX_MUTATIONS", l.RootMutations), "most mutation fields in one operation")
	fs.IntVar(&l.Complexity, "max-complexity", envInt("TASKQL_MAX_COMPLEXITY", l.Complexity), "highest complexity of an operation (a connection counts first times its items)")
	fs.DurationVar(&l.Deadline, "deadline", envDuration("TASKQL_DEADLINE", l.Deadline), "longest a query or mutation may take, waiting for its turn included")
	fs.DurationVar(&c.timeouts.Statement, "statement-timeout", envDuration("TASKQL_STATEMENT_TIMEOUT", c.timeouts.Statement), "PostgreSQL statement_timeout")
	fs.DurationVar(&c.timeouts.Lock, "lock-timeout", envDuration("TASKQL_LOCK_TIMEOUT", c.timeouts.Lock), "PostgreSQL lock_timeout, SQLite busy_timeout")
	rate := fs.Float64("rate-limit", envFloat("TASKQL_RATE_LIMIT", -1), "requests per second per token (0: none; default 0 in development, 50 in production)")
	fs.IntVar(&c.rateBurst, "rate-burst", envInt("TASKQL_RATE_BURST", 100), "requests a token may send at once before its rate applies")
	fs.StringVar(&c.trustedDocsPath, "trusted-documents", os.Getenv("TASKQL_TRUSTED_DOCUMENTS"), "run only the operations of this `FILE` (production; see README)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch *env {
	case "development":
	case "production":
		c.production, c.noDemo = true, true
	default:
		return c, fmt.Errorf("serve: --env must be development or production, not %q", *env)
	}
	c.ratePerSecond = *rate
	if c.ratePerSecond < 0 {
		c.ratePerSecond = 0
		if c.production {
			c.ratePerSecond = 50
		}
	}
	return c, nil
}

// serve serves the API until ctx is done (SIGINT, SIGTERM), then drains: /readyz turns 503 and
// the requests under way have 10 s to finish.
func serve(ctx context.Context, args []string, out io.Writer) error {
	c, err := parseServe(args)
	if err != nil {
		return err
	}
	if c.production {
		defer slog.SetDefault(slog.Default())
		slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	}
	if os.Getenv("GOGC") == "" {
		// A GraphQL response allocates per field: a larger heap target halves the collector's share
		// of the CPU and keeps the process near 80 MB under load (docs/PERFORMANCE.md).
		debug.SetGCPercent(200)
	}
	opts, err := c.graphOptions()
	if err != nil {
		return err
	}
	st, err := open(ctx, store.WithTimeouts(c.timeouts))
	if err != nil {
		return err
	}
	defer st.Close()
	svc := rules.New(st, rules.WithMaxAssignees(c.maxAssignees))
	if !c.noDemo {
		if opts.PlaygroundToken, err = demo(ctx, st, svc, out); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	api := graph.NewServer(svc, opts)
	c.announce(out, ln.Addr())
	return serveHTTP(ctx, ln, api)
}

// graphOptions are the handler's options of the configuration. It reads the trusted documents,
// so a bad file stops serve before it opens the database.
func (c config) graphOptions() (graph.Options, error) {
	opts := graph.Options{
		Production:    c.production,
		Limits:        c.limits,
		MaxInFlight:   c.maxInFlight,
		CORSOrigins:   strings.FieldsFunc(c.cors, func(r rune) bool { return r == ',' || r == ' ' }),
		RatePerSecond: c.ratePerSecond,
		RateBurst:     c.rateBurst,
	}
	if c.trustedDocsPath != "" {
		docs, err := readTrustedDocuments(c.trustedDocsPath)
		if err != nil {
			return opts, err
		}
		opts.TrustedDocuments = docs
	}
	return opts, nil
}

// announce logs the configuration served and prints where to find the server: the playground
// and the API in development, the API alone in production, which has no playground.
func (c config) announce(out io.Writer, addr net.Addr) {
	mode := "development"
	if c.production {
		mode = "production"
	}
	slog.Info("serving", "mode", mode, "addr", addr.String(), "limits", fmt.Sprintf("%+v", c.limits), "rate_per_second", c.ratePerSecond)
	if !c.production {
		fmt.Fprintf(out, "taskql: playground at http://%s/ , API at http://%s/query\n", hostPort(addr), hostPort(addr))
	} else {
		fmt.Fprintf(out, "taskql: API at http://%s/query\n", hostPort(addr))
	}
}

// serveHTTP serves api on ln until ctx is done, then drains it and shuts the server down,
// giving the requests under way 10 s to finish. The timeouts bound what a slow client holds.
func serveHTTP(ctx context.Context, ln net.Listener, api *graph.Server) error {
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	api.Drain()
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// readTrustedDocuments reads the --trusted-documents file.
func readTrustedDocuments(path string) (*graph.TrustedDocuments, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("serve: --trusted-documents: %w", err)
	}
	defer f.Close()
	docs, err := graph.ReadTrustedDocuments(f)
	if err != nil {
		return nil, fmt.Errorf("serve: --trusted-documents %s: %w", path, err)
	}
	return docs, nil
}

// demo loads the demo world into an empty database and prints the demo tokens that still work
// (`token revoke` may have revoked some since). It returns the first of them, the org admin's
// unless it was revoked, to pre-fill the playground, or "" when none works.
func demo(ctx context.Context, st *store.Store, svc *rules.Service, out io.Writer) (string, error) {
	w := seed.Demo()
	empty, err := seed.Empty(ctx, st)
	if err != nil {
		return "", err
	}
	if empty {
		if err := seed.Load(ctx, st, w); err != nil {
			return "", fmt.Errorf("load demo world: %w", err)
		}
		fmt.Fprintln(out, "taskql: loaded the demo world into the empty database")
	}
	var working []demoToken
	for _, t := range w.Tokens {
		v, err := svc.Authenticate(ctx, t.Token)
		if err != nil {
			continue
		}
		working = append(working, demoToken{token: t.Token, user: string(v.ID), about: fmt.Sprintf("%s (%s)", v.Name(), describe(v))})
	}
	printDemoTokens(out, working)
	if len(working) == 0 {
		return "", nil
	}
	return working[0].token, nil
}

// demoToken is a line of printDemoTokens.
type demoToken struct {
	token string
	user  string
	about string // who the user is, or "" to print the user's id alone
}

// printDemoTokens prints tokens under a header that says how to send them, one a line, the
// token padded so that the users line up; nothing when there are none. Both serve and
// `seed --demo` print the demo tokens with it, since the database keeps only their hashes.
func printDemoTokens(out io.Writer, tokens []demoToken) {
	if len(tokens) == 0 {
		return
	}
	fmt.Fprintln(out, "taskql: demo tokens (send as Authorization: Bearer <token>):")
	for _, t := range tokens {
		line := fmt.Sprintf("  %-28s %s", t.token, t.user)
		if t.about != "" {
			line += " " + t.about
		}
		fmt.Fprintln(out, line)
	}
}

// describe says what kind of user a viewer is, for the line of its demo token: its company's
// kind, and whether it is an org admin or not approved.
func describe(v *model.Viewer) string {
	s := string(v.CompanyKind)
	if v.IsOrgAdmin {
		s += ", org admin"
	}
	if !v.IsAccessApproved {
		s += ", not approved"
	}
	return s
}

func migrateCmd(ctx context.Context, args []string, out io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("migrate takes no arguments")
	}
	st, err := store.Open(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		return err
	}
	defer st.Close()
	ran, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "taskql: applied %d migration(s) %v\n", len(ran), ran)
	return nil
}

func seedCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	useDemo := fs.Bool("demo", false, "load the demo world and print its tokens")
	file := fs.String("file", "", "load the fixture file `F.json` (DESIGN §5)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *useDemo == (*file != "") {
		return errors.New("seed: give exactly one of --demo or --file F.json")
	}
	w := seed.Demo()
	if *file != "" {
		f, err := os.Open(*file)
		if err != nil {
			return err
		}
		defer f.Close()
		if w, err = seed.Parse(f); err != nil {
			return fmt.Errorf("seed %s: %w", *file, err)
		}
	}
	st, err := open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := seed.Load(ctx, st, w); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Fprintf(out, "taskql: loaded %d organization(s), %d user(s), %d project(s), %d task(s)\n",
		len(w.Organizations), len(w.Users), len(w.Projects), len(w.Tasks))
	if *useDemo {
		tokens := make([]demoToken, 0, len(w.Tokens))
		for _, t := range w.Tokens {
			tokens = append(tokens, demoToken{token: t.Token, user: t.UserID})
		}
		printDemoTokens(out, tokens)
	}
	return nil
}

func tokenCmd(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "revoke") {
		return errors.New("token: want `token create --user ID` or `token revoke --user ID`")
	}
	action := args[0]
	fs := flag.NewFlagSet("token "+action, flag.ContinueOnError)
	user := fs.String("user", "", "the user's id (usr_…)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	uid, err := model.ParseUserID(*user)
	if err != nil {
		return fmt.Errorf("token %s: --user: %w", action, err)
	}
	st, err := open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if action == "revoke" {
		n, err := st.RevokeTokens(ctx, uid)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "taskql: revoked %d token(s) of %s\n", n, uid)
		return nil
	}
	token := auth.NewToken()
	if err := st.CreateToken(ctx, uid, auth.HashToken(token)); err != nil {
		return fmt.Errorf("token create: %w", err)
	}
	fmt.Fprintln(out, token)
	return nil
}

func defaultAddr() string {
	if p := os.Getenv("PORT"); p != "" {
		return ":" + p
	}
	return ":8080"
}

func envString(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

func envFloat(name string, def float64) float64 {
	if n, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil {
		return n
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

// hostPort names a listening address in a URL a person can open.
func hostPort(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil || host == "::" || host == "0.0.0.0" || host == "" {
		return "localhost:" + port
	}
	return net.JoinHostPort(host, port)
}
