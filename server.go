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
//
// server.go holds the commands; serve.go serving the API, config.go its configuration, demo.go
// the demo world that serve loads and the printing of its tokens.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/taskql/taskql/internal/auth"
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

// run runs the command that args name, serve when they start with a flag or are empty. What the
// command prints goes to out; its error is returned, for main to print.
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

// open connects to DATABASE_URL and applies the migrations. With TASKQL_TRANSACTION_POOLER set,
// DATABASE_URL leads to a pooler in transaction mode (store.WithTransactionPooler).
func open(ctx context.Context, opts ...store.Option) (*store.Store, error) {
	if pooledFromEnv() {
		opts = append(opts, store.WithTransactionPooler())
	}
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

// migrateCmd applies the migrations not yet applied and prints their ids. It opens the database
// without open, which would apply them first and leave nothing to report.
func migrateCmd(ctx context.Context, args []string, out io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("migrate takes no arguments")
	}
	var opts []store.Option
	if pooledFromEnv() {
		opts = append(opts, store.WithTransactionPooler())
	}
	st, err := store.Open(ctx, os.Getenv("DATABASE_URL"), opts...)
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

// seedCmd loads the demo world or a fixture file (DESIGN §5), all or nothing, and prints what it
// loaded; for the demo, also its tokens.
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

// tokenCmd creates a token for a user and prints it, the only time it can be read (only its hash
// is stored), or revokes every token of the user at once.
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
