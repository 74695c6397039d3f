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

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/taskql/taskql/graph"
	"github.com/taskql/taskql/internal/migrate"
	"github.com/taskql/taskql/internal/pubsub"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/telemetry"
	"github.com/taskql/taskql/internal/webhook"
	"github.com/taskql/taskql/rest"
)

// serve serves the API until ctx is done (SIGINT, SIGTERM), then drains: /readyz turns 503 and
// the requests under way have 10 s to finish.
func serve(ctx context.Context, args []string, out io.Writer) error {
	c, err := parseServe(args)
	if err != nil {
		return err
	}
	defer slog.SetDefault(slog.Default())
	tel, err := telemetry.Setup(ctx, telemetry.Config{Production: c.production})
	if err != nil {
		return err
	}
	defer tel.Shutdown(context.WithoutCancel(ctx)) //nolint:errcheck // spans not sent are lost either way
	if os.Getenv("GOGC") == "" {
		// A GraphQL response allocates per field: a larger heap target halves the collector's share
		// of the CPU and keeps the process near 80 MB under load (docs/PERFORMANCE.md).
		debug.SetGCPercent(200)
	}
	opts, err := c.graphOptions()
	if err != nil {
		return err
	}
	st, err := open(ctx, c.storeOptions(tel.Tracing)...)
	if err != nil {
		return err
	}
	defer st.Close()
	bus, err := c.bus(st)
	if err != nil {
		return err
	}
	defer bus.Close()
	hooks := webhook.New(st, c.webhooks)
	svc := rules.New(st, c.ruleOptions(st, bus, hooks)...)
	go svc.Deliver(context.WithoutCancel(ctx))
	if err := observe(tel, st, svc, &opts); err != nil {
		return err
	}
	observeWebhooks(tel, hooks)
	// The worker stops taking events on SIGTERM and finishes the attempts under way, as the
	// requests under way finish; an event it claimed and did not finish is delivered again after
	// its lease, by whichever process.
	delivering := make(chan struct{})
	defer func() { <-delivering }()
	deliver, stopDelivering := context.WithCancel(ctx) // also when serve returns on an error
	defer stopDelivering()
	go func() { defer close(delivering); hooks.Run(deliver) }()
	if !c.noDemo {
		if opts.DemoTokens, err = demo(ctx, st, svc, out); err != nil {
			return err
		}
		if len(opts.DemoTokens) > 0 {
			opts.PlaygroundToken = opts.DemoTokens[0].Token
		}
	}
	gql := graph.NewServer(svc, opts)
	api := rest.Mount(rest.NewHandler(svc, c.restOptions()), tel, gql)
	return c.listen(ctx, out, api, gql.Drain, tel)
}

// observe gives the operator the database pool's, the subscriptions' and the events' series
// (DESIGN §8), and the API its telemetry; development serves the metrics on the API's port.
func observe(tel *telemetry.Telemetry, st *store.Store, svc *rules.Service, opts *graph.Options) error {
	db, err := st.Gorm().DB()
	if err != nil {
		return err
	}
	tel.Metrics.Database(db)
	tel.Metrics.Gauge("taskql_database_up", "1 while the last statement reached the database, 0 during an outage.",
		func() float64 {
			if st.Reachable() {
				return 1
			}
			return 0
		})
	tel.Metrics.Gauge("taskql_subscriptions_active", "Subscriptions this process holds.",
		func() float64 { return float64(svc.Subscriptions()) })
	tel.Metrics.Counter("taskql_bus_messages_total", "Messages this process heard on the bus between processes (changes, and news of tokens and users), its own included.",
		func() float64 { return float64(svc.Stats().Heard) })
	tel.Metrics.Counter("taskql_viewer_cache_hits_total", "Requests whose viewer this process knew without a statement.",
		func() float64 { return float64(svc.Stats().ViewerHits) })
	tel.Metrics.Counter("taskql_viewers_forgotten_total", "Times this process forgot the viewers it kept, because tokens, users or companies changed.",
		func() float64 { return float64(svc.Stats().ViewersForgotten) })
	tel.Metrics.Counter("taskql_events_published_total", "Committed changes of assignees this process published.",
		func() float64 { return float64(svc.Stats().Published) })
	tel.Metrics.Counter("taskql_events_delivered_total", "Messages this process delivered to its subscribers.",
		func() float64 { return float64(svc.Stats().Delivered) })
	observeReplica(tel, st)
	opts.Telemetry = tel
	opts.Metrics = promhttp.HandlerFor(tel.Registry, promhttp.HandlerOpts{})
	return nil
}

// observeWebhooks gives the operator the webhooks' series (DESIGN §8, §10).
func observeWebhooks(tel *telemetry.Telemetry, hooks *webhook.Worker) {
	tel.Metrics.CounterVec("taskql_webhook_attempts_total", "Webhook delivery attempts this process made, by outcome (DELIVERED, REJECTED, UNREACHABLE, REFUSED).",
		"outcome", func() map[string]float64 {
			m := map[string]float64{}
			for o, n := range hooks.Stats().Attempts {
				m[string(o)] = float64(n)
			}
			return m
		})
	tel.Metrics.Gauge("taskql_webhook_outbox_backlog", "Events waiting in the webhook outbox (not yet delivered nor given up), every process's, as last read.",
		func() float64 { return float64(hooks.Stats().Backlog) })
	tel.Metrics.Gauge("taskql_webhook_outbox_oldest_age_seconds", "How long the oldest event waiting in the webhook outbox has waited (0 when none).",
		func() float64 { return hooks.Stats().OldestAge.Seconds() })
}

// observeReplica gives the operator the replica's series (DESIGN §11), when there is one.
func observeReplica(tel *telemetry.Telemetry, st *store.Store) {
	if !st.ReplicaStats().Configured {
		return
	}
	tel.Metrics.Gauge("taskql_replica_usable", "1 while the replica takes reads: it answers and is less than --read-your-writes behind.",
		func() float64 {
			if st.ReplicaStats().Usable {
				return 1
			}
			return 0
		})
	tel.Metrics.Gauge("taskql_replica_lag_seconds", "How far behind the replica is, at most: writes committed longer ago are visible there.",
		func() float64 { return st.ReplicaStats().Lag.Seconds() })
	tel.Metrics.Counter("taskql_replica_reads_total", "Reads the replica answered.",
		func() float64 { return float64(st.ReplicaStats().Reads) })
	tel.Metrics.Counter("taskql_replica_fallbacks_total", "Reads the replica failed to answer, which the primary then answered.",
		func() float64 { return float64(st.ReplicaStats().Fallbacks) })
}

// ruleOptions are the rules' options of serve: its limits, its bus, the viewer cache where the
// database tells every process of a changed viewer, and the webhook worker woken by each change.
func (c config) ruleOptions(st *store.Store, bus pubsub.Bus, hooks *webhook.Worker) []rules.Option {
	opts := []rules.Option{rules.WithMaxAssignees(c.maxAssignees), rules.WithBus(bus), rules.WithWebhookGuard(c.webhooks.Guard),
		rules.OnAssigneesChanged(func(rules.AssigneesChanged) { hooks.Nudge() })}
	if st.Dialect() == migrate.Postgres {
		// PostgreSQL tells every process when tokens, users or companies change (migration 0004);
		// SQLite cannot tell this process of `taskql token revoke` run beside it.
		opts = append(opts, rules.WithViewerCache(viewerCacheTTL))
	}
	if c.replicaURL != "" {
		opts = append(opts, rules.WithReadYourWrites(c.readYourWrites))
	}
	return opts
}

// listen serves the API on --addr, and in production the metrics on --metrics-addr when set,
// never behind the public API's port (DESIGN §8). drain is called when serving stops.
func (c config) listen(ctx context.Context, out io.Writer, api http.Handler, drain func(), tel *telemetry.Telemetry) error {
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	if c.production && c.metricsAddr != "" {
		mln, err := net.Listen("tcp", c.metricsAddr)
		if err != nil {
			ln.Close()
			return err
		}
		metrics := &http.Server{Handler: promhttp.HandlerFor(tel.Registry, promhttp.HandlerOpts{}), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = metrics.Serve(mln) }()
		defer metrics.Close()
		slog.Info("serving metrics", "addr", mln.Addr().String())
	}
	c.announce(out, ln.Addr())
	return serveHTTP(ctx, ln, api, drain)
}

// viewerCacheTTL bounds how long a process keeps the viewer of a token, should it miss the news
// that it changed (it forgets at once when it hears of it).
const viewerCacheTTL = time.Minute

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
	b, err := pubsub.NewPostgres(url, migrate.Channel, nil)
	if err != nil {
		return nil, fmt.Errorf("serve: --listen-database-url: %w", err)
	}
	return b, nil
}

// announce logs the configuration served and prints where to find the server: the playground
// and the API in development, the API alone in production, which has no playground; then the
// board (/app), served in both.
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
	fmt.Fprintf(out, "taskql: board at http://%s/app\n", hostPort(addr))
}

// serveHTTP serves api on ln until ctx is done, then drains it (drain: /readyz turns 503, the
// streams of subscriptions end) and shuts the server down, giving the requests under way 10 s to
// finish. The timeouts bound what a slow client holds.
func serveHTTP(ctx context.Context, ln net.Listener, api http.Handler, drain func()) error {
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
	drain()
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
