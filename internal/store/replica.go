package store

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/taskql/taskql/internal/migrate"
)

// A streaming replica takes the reads that need not see the latest writes (DESIGN §11). A read
// goes to it only when all of these hold, else to the primary:
//
//   - its Scope is not Fresh: the rules mark the reads of a viewer that wrote within the window,
//     on every process, and a mutation reads its result in its own transaction;
//   - the replica answers: a read it fails to answer (stopped, restarting, the network gone, or a
//     query cancelled by a conflict with recovery) runs again on the primary at once, and the
//     replica takes no read until it answers the prober again;
//   - it is less than the window behind: every probeEvery the prober samples the primary's WAL
//     position, then asks the replica how far it has replayed; the latest sample the replica has
//     replayed past is a moment before which every committed write is visible there. Should that
//     moment fall a window behind (replication delayed, broken, or the prober unable to tell),
//     reads go to the primary until it catches up.
//
// So a viewer who wrote reads the primary for the window after its write, and the replica after
// that only once the replica holds everything committed before the window began, its own write
// among it: read-your-writes holds whatever the replica's lag. Other viewers may read a state up
// to a window old.

// WithReplica sends the reads that need not see the latest writes to the streaming replica at
// url, as long as it answers and is less than window behind the primary (see above).
func WithReplica(url string, window time.Duration) Option {
	return func(o *options) { o.replica, o.window = url, window }
}

// probeEvery is how often the prober samples the primary's WAL position and the replica's replay:
// the replica's staleness is known to within about this.
const probeEvery = 200 * time.Millisecond

// The positions, in bytes of WAL: how far the primary has flushed (what a committed write is
// under), how far the replica has replayed (NULL: it is no standby).
const (
	primaryLSN  = "SELECT pg_wal_lsn_diff(pg_current_wal_flush_lsn(), '0/0')::bigint"
	replayedLSN = "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint"
)

type replica struct {
	store   *Store  // reads on the replica: a Store of its own, without a replica
	primary *sql.DB // sampled for its WAL position
	conn    *sql.DB
	window  time.Duration
	start   time.Time
	// caughtUp is when, in nanoseconds after start, the last write visible on the replica was
	// committed at the latest: every write committed before then is visible there.
	caughtUp    atomic.Int64
	down        atomic.Bool // the replica failed to answer; it answers the prober again
	notStandby  atomic.Bool // logged once: the URL names no standby
	reads, fell atomic.Int64
	samples     []lsnSample // the prober's
	stop        context.CancelFunc
	done        chan struct{}
}

type lsnSample struct {
	at  time.Duration // after start
	lsn int64
}

// openReplica connects to the replica, with the primary's options, and starts its prober. The
// replica need not answer yet: reads stay on the primary until it does and has caught up.
func openReplica(primary *Store, o options, cfg *gorm.Config) (*replica, error) {
	noPing := *cfg
	noPing.DisableAutomaticPing = true // the replica may be down: the prober tells
	db, err := openGorm(o.replica, o, &noPing)
	if err == nil {
		err = instrument(db, o)
	}
	if err != nil {
		return nil, err
	}
	rs := &Store{db: db, dialect: migrate.Postgres, writes: primary.writes, health: &health{now: time.Now}, traced: o.tracing,
		pooled: o.pooled, timeouts: o.timeouts}
	if err := rs.pool(); err != nil {
		return nil, err
	}
	conn, err := db.DB()
	if err != nil {
		return nil, err
	}
	prim, err := primary.db.DB()
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	r := &replica{store: rs, primary: prim, conn: conn, window: o.window, start: time.Now(), stop: stop, done: make(chan struct{})}
	r.caughtUp.Store(-int64(o.window)) // nothing known yet: too far behind
	go r.run(ctx)
	return r, nil
}

// usable tells whether the replica may take a read now.
func (r *replica) usable() bool {
	return !r.down.Load() && r.lag() < r.window
}

// lag bounds how far the replica is behind: writes committed longer ago are visible there.
func (r *replica) lag() time.Duration {
	return time.Since(r.start) - time.Duration(r.caughtUp.Load())
}

// routed runs read on the replica when sc allows it and the replica is usable, else on s (the
// primary, or a transaction). A read the replica fails to answer runs again on the primary.
func routed[T any](ctx context.Context, s *Store, sc Scope, read func(*Store) (T, error)) (T, error) {
	r := s.replica
	if r == nil || sc.Fresh || !r.usable() {
		return read(s)
	}
	v, err := read(r.store)
	if err == nil {
		r.reads.Add(1)
		return v, nil
	}
	if ctx.Err() != nil || !r.failed(err) {
		return v, err
	}
	r.fell.Add(1)
	return read(s)
}

// failed tells whether err is the replica's failure to answer, which the primary may not share:
// it is unreachable (and then takes no read until it answers the prober), or it cancelled the
// query for a conflict with recovery (SQLSTATE 40001 on a standby).
func (r *replica) failed(err error) bool {
	if outage(err) {
		if !r.down.Swap(true) {
			slog.Warn("replica unreachable: reads go to the primary until it answers again", "err", err)
		}
		return true
	}
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "40001"
}

// run probes the replica every probeEvery until stopped.
func (r *replica) run(ctx context.Context) {
	defer close(r.done)
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	for {
		r.probe(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// probe samples the primary's WAL position, then learns how far the replica has replayed.
func (r *replica) probe(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	at := time.Since(r.start)
	var flushed int64
	if err := r.primary.QueryRowContext(ctx, primaryLSN).Scan(&flushed); err != nil {
		return // the primary's outage is the primary's to tell; the replica's lag grows meanwhile
	}
	r.samples = append(r.samples, lsnSample{at: at, lsn: flushed})
	var replayed sql.NullInt64
	if err := r.conn.QueryRowContext(ctx, replayedLSN).Scan(&replayed); err != nil {
		if ctx.Err() == nil {
			r.failed(err)
		}
		r.trim(-1)
		return
	}
	if !replayed.Valid {
		if !r.notStandby.Swap(true) {
			slog.Warn("the replica is no standby (pg_last_wal_replay_lsn() is null): reads stay on the primary")
		}
		r.trim(-1)
		return
	}
	if r.down.Swap(false) {
		slog.Info("replica reachable again: reads go to it once it has caught up")
	}
	i := len(r.samples) - 1
	for i >= 0 && r.samples[i].lsn > replayed.Int64 {
		i--
	}
	if i >= 0 {
		r.caughtUp.Store(int64(r.samples[i].at))
	}
	r.trim(i)
}

// trim drops the samples before the i-th (the latest the replica has replayed past), and the
// oldest beyond what a window holds: a replica that far behind is not read anyway.
func (r *replica) trim(i int) {
	if i > 0 {
		r.samples = r.samples[i:]
	}
	if most := int(r.window/probeEvery) + 2; len(r.samples) > most {
		r.samples = r.samples[len(r.samples)-most:]
	}
}

func (r *replica) close() {
	r.stop()
	<-r.done
	_ = r.conn.Close()
}

// ReplicaStats tells how the replica fares (for the metrics).
type ReplicaStats struct {
	// Configured is whether there is a replica (WithReplica).
	Configured bool
	// Usable is whether it takes reads now: it answers and is less than the window behind.
	Usable bool
	// Lag bounds how far behind it is: writes committed longer ago are visible there.
	Lag time.Duration
	// Reads counts the reads it answered; Fallbacks those it failed to answer, which the primary
	// then answered.
	Reads, Fallbacks int64
}

// ReplicaStats tells how the replica fares.
func (s *Store) ReplicaStats() ReplicaStats {
	r := s.replica
	if r == nil {
		return ReplicaStats{}
	}
	return ReplicaStats{Configured: true, Usable: r.usable(), Lag: r.lag(), Reads: r.reads.Load(), Fallbacks: r.fell.Load()}
}
