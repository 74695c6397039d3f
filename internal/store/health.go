package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// Unavailable tells whether err means that the database could not do the work now, though it may
// a moment later: it cannot be reached, it is restarting, a statement or a lock wait ran past its
// timeout, or the operation's deadline passed (DESIGN §3, UNAVAILABLE: safe to retry). Such an
// error is no fault of the request.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57014", // query_canceled: statement_timeout
			"55P03",          // lock_not_available: lock_timeout
			"40001", "40P01", // serialization failure, deadlock: retry
			"53000", "53100", "53200", "53300", "53400": // insufficient resources, too many connections
			return true
		}
	}
	var sqliteErr *gosqlite.Error
	if errors.As(err, &sqliteErr) {
		switch sqliteErr.Code() & 0xff {
		case 5, 6, // SQLITE_BUSY, SQLITE_LOCKED: the write lock was not had within busy_timeout
			8, 13: // SQLITE_READONLY, SQLITE_FULL: the file takes no writes now; reads still work
			return true
		}
	}
	return outage(err)
}

// outage tells whether err means that the database cannot be reached at all: the connection was
// refused, lost or shut down by the server, or the database file cannot be read. A timeout is
// none (the database answered late, or a lock was held), nor is a file that refuses writes. An
// outage is logged once when it starts and once when it ends, not once per request.
func outage(err error) bool {
	var (
		pgErr      *pgconn.PgError
		connectErr *pgconn.ConnectError
		netErr     net.Error
		sqliteErr  *gosqlite.Error
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), pgconn.Timeout(err):
		return false
	case errors.As(err, &connectErr):
		return true
	case errors.As(err, &netErr):
		return !netErr.Timeout()
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone), errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), pgconn.SafeToRetry(err):
		return true
	case errors.As(err, &pgErr):
		// Class 08: connection exception; 57P01–57P03: the server shuts down or is starting.
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P0")
	case errors.As(err, &sqliteErr):
		switch sqliteErr.Code() & 0xff {
		case 10, 14: // SQLITE_IOERR, SQLITE_CANTOPEN
			return true
		}
	}
	return false
}

// recoverAfter is how long statements must reach the database, none failing to, before an outage
// is over.
const recoverAfter = time.Second

// health tells an outage of the database from the errors of single statements, to log it once
// when it starts and once when it ends. The database is down from the first statement that could
// not reach it, and up again once statements have reached it for recoverAfter with none failing
// in between: the statements that fail or succeed around the moment it goes (the pooled
// connections that learn one by one that their session was killed, one that ends as the server
// stops) so make one outage, not several.
type health struct {
	down    atomic.Bool
	mu      sync.Mutex
	okSince time.Time // the first success since the last failure, while down
	now     func() time.Time
}

func (h *health) observe(db *gorm.DB) { h.note(db.Error) }

// note takes in the outcome of a statement.
func (h *health) note(err error) {
	ok := err == nil || errors.Is(err, gorm.ErrRecordNotFound)
	if ok && !h.down.Load() {
		return // the common case, without the lock
	}
	if !ok && !outage(err) {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	switch {
	case !ok:
		h.okSince = time.Time{}
		if !h.down.Swap(true) {
			slog.Warn("database unreachable: requests answer UNAVAILABLE until it is back", "err", err)
		}
	case h.okSince.IsZero():
		h.okSince = now
	case now.Sub(h.okSince) >= recoverAfter && h.down.Swap(false):
		slog.Info("database reachable again", "after", recoverAfter)
	}
}

// registerHealth watches the outcome of every statement GORM runs.
func registerHealth(db *gorm.DB, h *health) error {
	return registerAfter(db, "taskql:health", h.observe)
}

// registerAfter registers fn to run after every kind of statement GORM runs.
func registerAfter(db *gorm.DB, name string, fn func(*gorm.DB)) error {
	cb := db.Callback()
	for _, err := range []error{
		cb.Create().After("gorm:create").Register(name, fn),
		cb.Query().After("gorm:query").Register(name, fn),
		cb.Update().After("gorm:update").Register(name, fn),
		cb.Delete().After("gorm:delete").Register(name, fn),
		cb.Row().After("gorm:row").Register(name, fn),
		cb.Raw().After("gorm:raw").Register(name, fn),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}
