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
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
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
func open(ctx context.Context) (*store.Store, error) {
	st, err := store.Open(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return nil, err
	}
	return st, nil
}

func serve(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", defaultAddr(), "address to listen on (default :$PORT, else :8080)")
	noDemo := fs.Bool("no-demo", os.Getenv("TASKQL_NO_DEMO") != "", "do not load the demo world into an empty database")
	maxAssignees := fs.Int("max-assignees", envInt("TASKQL_MAX_ASSIGNEES", rules.DefaultMaxAssignees), "most assignees a task may hold")
	cors := fs.String("cors-origins", os.Getenv("TASKQL_CORS_ORIGINS"), "comma-separated browser origins allowed to call the API (`https://app.example,...` or *)")
	maxInFlight := fs.Int("max-inflight", envInt("TASKQL_MAX_INFLIGHT", 4*runtime.GOMAXPROCS(0)), "most GraphQL requests executed at once; the others wait their turn")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" {
		// A GraphQL response allocates per field: a larger heap target halves the collector's share
		// of the CPU and keeps the process near 80 MB under load (docs/PERFORMANCE.md).
		debug.SetGCPercent(200)
	}
	st, err := open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := rules.New(st, rules.WithMaxAssignees(*maxAssignees))

	var playgroundToken string
	if !*noDemo {
		if playgroundToken, err = demo(ctx, st, svc, out); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler: graph.NewServer(svc, graph.Options{
			PlaygroundToken: playgroundToken,
			MaxInFlight:     *maxInFlight,
			CORSOrigins:     strings.FieldsFunc(*cors, func(r rune) bool { return r == ',' || r == ' ' }),
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	fmt.Fprintf(out, "taskql: playground at http://%s/ , API at http://%s/query\n", hostPort(ln.Addr()), hostPort(ln.Addr()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// demo loads the demo world into an empty database and prints the demo tokens that still work.
// It returns the org admin's token to pre-fill the playground, or "" when there is none.
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
	var first string
	for _, t := range w.Tokens {
		v, err := svc.Authenticate(ctx, t.Token)
		if err != nil {
			continue
		}
		if first == "" {
			first = t.Token
			fmt.Fprintln(out, "taskql: demo tokens (send as Authorization: Bearer <token>):")
		}
		fmt.Fprintf(out, "  %-28s %s %s (%s)\n", t.Token, v.ID, v.Name(), describe(v))
	}
	return first, nil
}

func describe(v *rules.Viewer) string {
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
		for _, t := range w.Tokens {
			fmt.Fprintf(out, "  %-28s %s\n", t.Token, t.UserID)
		}
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
	token := "tq_" + rand.Text()
	if err := st.CreateToken(ctx, uid, store.HashToken(token)); err != nil {
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

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
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
