package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/taskql/taskql/graph"
	"github.com/taskql/taskql/internal/migrate"
	"github.com/taskql/taskql/internal/pubsub"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/store"
)

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
	bus, err := c.bus(st)
	if err != nil {
		return err
	}
	defer bus.Close()
	svc := rules.New(st, rules.WithMaxAssignees(c.maxAssignees), rules.WithBus(bus))
	go svc.Deliver(context.WithoutCancel(ctx))
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

// busChannel is the PostgreSQL channel the processes of one database notify each other on.
const busChannel = "taskql"

// bus is how the processes on one database hear of each other's changes: PostgreSQL's
// LISTEN/NOTIFY, on a connection of its own (--listen-database-url, else DATABASE_URL), or in
// process for SQLite, which one process serves.
func (c config) bus(st *store.Store) (pubsub.Bus, error) {
	if st.Dialect() != migrate.Postgres {
		return pubsub.NewLocal(), nil
	}
	url := c.listenURL
	if url == "" {
		url = os.Getenv("DATABASE_URL")
	}
	b, err := pubsub.NewPostgres(url, busChannel, nil)
	if err != nil {
		return nil, fmt.Errorf("serve: --listen-database-url: %w", err)
	}
	return b, nil
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

// hostPort names a listening address in a URL a person can open.
func hostPort(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil || host == "::" || host == "0.0.0.0" || host == "" {
		return "localhost:" + port
	}
	return net.JoinHostPort(host, port)
}
