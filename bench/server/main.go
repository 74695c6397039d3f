// Command server serves taskql's API for the load benchmark with Go's profiler beside it: the
// same handler as `taskql serve` on PostgreSQL (graph.NewServer over rules.New with the bus and
// the viewer cache, the same admission limit and GOGC), and on a second, loopback-only
// address net/http/pprof and /debug/statements, which counts the requests served and the SQL
// statements they ran (store.CountStatements), so that a CPU profile and the statements per
// request can be taken under load without touching the server's code (docs/PERFORMANCE.md).
//
//	DATABASE_URL=postgres://… go run ./bench/server --addr 127.0.0.1:8090 --pprof 127.0.0.1:6060
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/taskql/taskql/graph"
	"github.com/taskql/taskql/internal/migrate"
	"github.com/taskql/taskql/internal/pubsub"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/telemetry"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "address of the API")
	pprofAddr := flag.String("pprof", "127.0.0.1:6060", "address of net/http/pprof (empty: none)")
	maxInflight := flag.Int("max-inflight", 4*runtime.GOMAXPROCS(0), "most GraphQL requests executed at once, as `taskql serve --max-inflight` (0: no limit)")
	flag.Parse()
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200) // as `taskql serve`
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *pprofAddr, *maxInflight); err != nil {
		fmt.Fprintln(os.Stderr, "bench server:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr, pprofAddr string, maxInflight int) error {
	st, err := store.Open(ctx, os.Getenv("DATABASE_URL"), store.WithStatementCounting())
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	// As `taskql serve` on PostgreSQL: the viewers of tokens kept, forgotten when the bus says.
	bus, err := pubsub.NewPostgres(os.Getenv("DATABASE_URL"), migrate.Channel, nil)
	if err != nil {
		return err
	}
	defer bus.Close()
	svc := rules.New(st, rules.WithBus(bus), rules.WithViewerCache(time.Minute))
	go svc.Deliver(context.WithoutCancel(ctx))
	// As `taskql serve`: an access line per request (to stderr) and the request metrics.
	tel, err := telemetry.Setup(ctx, telemetry.Config{})
	if err != nil {
		return err
	}
	api := graph.NewServer(svc, graph.Options{MaxInFlight: maxInflight, Telemetry: tel})
	var requests, statements atomic.Int64
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, c := store.CountStatements(r.Context())
		api.ServeHTTP(w, r.WithContext(ctx))
		requests.Add(1)
		statements.Add(int64(c.Count()))
	})
	if pprofAddr != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/statements", func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, "%d %d\n", requests.Load(), statements.Load())
		})
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		go func() { _ = http.ListenAndServe(pprofAddr, mux) }()
	}
	srv := &http.Server{
		Addr:              addr,
		Handler:           counted,
		ReadHeaderTimeout: 10 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	fmt.Printf("bench server: API at http://%s/query, pprof at http://%s/debug/pprof/\n", addr, pprofAddr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
