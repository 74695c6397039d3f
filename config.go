package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/taskql/taskql/graph"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/webhook"
	"github.com/taskql/taskql/rest"
)

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
	listenURL       string
	metricsAddr     string
	pooled          bool
	replicaURL      string
	readYourWrites  time.Duration
	webhooks        webhook.Config
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
	fs.StringVar(&c.metricsAddr, "metrics-addr", os.Getenv("TASKQL_METRICS_ADDR"), "in production, the `address` of /metrics (off when empty; development serves it on --addr)")
	fs.StringVar(&c.listenURL, "listen-database-url", os.Getenv("TASKQL_LISTEN_DATABASE_URL"), "PostgreSQL `URL` of the connection that LISTENs for other processes' changes (default DATABASE_URL; never a pooler in transaction mode)")
	fs.BoolVar(&c.pooled, "transaction-pooler", pooledFromEnv(), "DATABASE_URL (and --replica-database-url) lead to a pooler in transaction mode, such as pgbouncer: no session state, no prepared statements; needs --listen-database-url")
	fs.StringVar(&c.replicaURL, "replica-database-url", os.Getenv("TASKQL_REPLICA_DATABASE_URL"), "PostgreSQL `URL` of a streaming replica that takes the reads that need not see the latest writes (none when empty)")
	fs.DurationVar(&c.readYourWrites, "read-your-writes", envDuration("TASKQL_READ_YOUR_WRITES", 5*time.Second), "with a replica: how long a viewer's reads go to the primary after its write, and the most the replica may lag to take reads")
	fs.Int64Var(&l.WebSocketMessage, "max-websocket-message", int64(envInt("TASKQL_MAX_WEBSOCKET_MESSAGE", int(l.WebSocketMessage))), "largest message a client may send on a WebSocket (close 4400)")
	fs.IntVar(&l.SubscriptionsPerConnection, "max-subscriptions-per-connection", envInt("TASKQL_MAX_SUBSCRIPTIONS_PER_CONNECTION", l.SubscriptionsPerConnection), "most subscriptions of one WebSocket connection")
	fs.IntVar(&l.SubscriptionsPerToken, "max-subscriptions-per-token", envInt("TASKQL_MAX_SUBSCRIPTIONS_PER_TOKEN", l.SubscriptionsPerToken), "most subscriptions of one token")
	fs.StringVar(&c.trustedDocsPath, "trusted-documents", os.Getenv("TASKQL_TRUSTED_DOCUMENTS"), "run only the operations of this `FILE` (production; see README)")
	webhookFlags(fs, &c.webhooks)
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
	if c.pooled && c.listenURL == "" {
		return c, errors.New("serve: --transaction-pooler needs --listen-database-url, a direct connection: LISTEN holds a session, which a pooler in transaction mode does not keep")
	}
	if c.replicaURL != "" && c.readYourWrites <= 0 {
		return c, errors.New("serve: --read-your-writes must be positive")
	}
	if w := c.webhooks; w.Timeout <= 0 || w.Backoff.Base <= 0 || w.Poll <= 0 {
		return c, errors.New("serve: --webhook-timeout, --webhook-retry-base and --webhook-poll must be positive")
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

// webhookFlags are serve's flags of the webhook worker (DESIGN §10).
func webhookFlags(fs *flag.FlagSet, w *webhook.Config) {
	w.Backoff = webhook.DefaultBackoff
	fs.BoolVar(&w.Guard.AllowPrivate, "webhook-allow-private", envBool("TASKQL_WEBHOOK_ALLOW_PRIVATE"), "let webhooks reach loopback, private and link-local addresses (refused by default)")
	fs.DurationVar(&w.Timeout, "webhook-timeout", envDuration("TASKQL_WEBHOOK_TIMEOUT", webhook.DefaultTimeout), "longest one webhook delivery attempt may take; a claimed event is delivered again after twice this when its process died")
	fs.DurationVar(&w.Backoff.Base, "webhook-retry-base", envDuration("TASKQL_WEBHOOK_RETRY_BASE", w.Backoff.Base), "the wait before the first retry of a webhook delivery, doubled at each retry (with jitter) up to an hour, for 24 h")
	fs.DurationVar(&w.Poll, "webhook-poll", envDuration("TASKQL_WEBHOOK_POLL", time.Second), "how often the webhook worker reads the outbox for events of other processes and retries that are due")
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

// restOptions are the REST adapter's options of the configuration: the same limits as the
// GraphQL API's (DESIGN §7).
func (c config) restOptions() rest.Options {
	return rest.Options{
		BodyBytes:     c.limits.BodyBytes,
		Deadline:      c.limits.Deadline,
		MaxInFlight:   c.maxInFlight,
		RatePerSecond: c.ratePerSecond,
		RateBurst:     c.rateBurst,
	}
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

// pooledFromEnv tells whether TASKQL_TRANSACTION_POOLER is set (to anything but 0 or false): every
// command reads it, since every command connects to DATABASE_URL.
func pooledFromEnv() bool {
	v := os.Getenv("TASKQL_TRANSACTION_POOLER")
	return v != "" && v != "0" && v != "false"
}

// storeOptions are the store's options of the configuration.
func (c config) storeOptions(tracing bool) []store.Option {
	opts := []store.Option{store.WithTimeouts(c.timeouts)}
	if tracing {
		opts = append(opts, store.WithTracing())
	}
	if c.pooled {
		opts = append(opts, store.WithTransactionPooler())
	}
	if c.replicaURL != "" {
		opts = append(opts, store.WithReplica(c.replicaURL, c.readYourWrites))
	}
	return opts
}

// defaultAddr is :$PORT, the variable hosting platforms set, else :8080.
func defaultAddr() string {
	if p := os.Getenv("PORT"); p != "" {
		return ":" + p
	}
	return ":8080"
}

// envString is the value of the variable name, or def when it is unset or empty.
func envString(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// envBool tells whether the variable name is set, to anything but 0 or false.
func envBool(name string) bool {
	v := os.Getenv(name)
	return v != "" && v != "0" && v != "false"
}

// envInt is the variable name as an integer, or def when it is not one (or unset).
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

// envFloat is the variable name as a number, or def when it is not one (or unset).
func envFloat(name string, def float64) float64 {
	if n, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil {
		return n
	}
	return def
}

// envDuration is the variable name as a duration (`5s`), or def when it is not one (or unset).
func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}
