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
	"sync/atomic"
	"syscall"

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
		case 5, 6: // SQLITE_BUSY, SQLITE_LOCKED: the write lock was not had within busy_timeout
			return true
		}
	}
	return outage(err)
}

// outage tells whether err means that the database cannot be reached at all: the connection was
// refused, lost or shut down by the server, or the database file cannot be written. An outage is
// logged once when it starts and once when it ends, not once per request.
func outage(err error) bool {
	var (
		pgErr      *pgconn.PgError
		connectErr *pgconn.ConnectError
		netErr     net.Error
		sqliteErr  *gosqlite.Error
	)
	switch {
	case errors.As(err, &connectErr), errors.As(err, &netErr):
		return true
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone), errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), pgconn.SafeToRetry(err):
		return true
	case errors.As(err, &pgErr):
		// Class 08: connection exception; 57P01–57P03: the server shuts down or is starting.
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P0")
	case errors.As(err, &sqliteErr):
		switch sqliteErr.Code() & 0xff {
		case 8, 10, 13, 14: // SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN
			return true
		}
	}
	return false
}

// health remembers whether the last statement reached the database, to log an outage once when
// it starts and once when it ends.
type health struct{ down atomic.Bool }

func (h *health) observe(db *gorm.DB) {
	err := db.Error
	switch {
	case err == nil || errors.Is(err, gorm.ErrRecordNotFound):
		if h.down.CompareAndSwap(true, false) {
			slog.Info("database reachable again")
		}
	case outage(err):
		if h.down.CompareAndSwap(false, true) {
			slog.Warn("database unreachable: requests answer UNAVAILABLE until it is back", "err", err)
		}
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
