package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
)

// SQLite stores a time as text, and compares and sorts times as text: in time order only when
// every time is written in one zone and one format. The driver writes a time.Time in the zone it
// carries ("2024-01-02 10:30:00+02:00" sorts after "2024-01-02 09:00:00+00:00", an hour later)
// and to the nanosecond (which a cursor, to the microsecond, cannot name). So every connection to
// SQLite writes every time argument of every statement (inserts, updates, raw SQL and the bounds
// of a WHERE alike) in UTC, truncated to the microsecond as PostgreSQL stores it. The times read
// back are then in UTC too, as the API shows them (DESIGN §1). PostgreSQL's timestamptz compares
// instants and needs none of this.

// openSQLite is the GORM dialector of the SQLite database named by dsn, on connections that write
// times in UTC.
func openSQLite(dsn string) gorm.Dialector {
	return &sqlite.Dialector{Conn: sql.OpenDB(sqliteConnector{dsn: dsn})}
}

// sqliteDriver is the SQLite driver as registered, with the functions registered on it (such as
// sqliteLower).
var sqliteDriver = func() driver.Driver {
	db, err := sql.Open(sqlite.DriverName, "")
	if err != nil {
		panic(fmt.Sprintf("store: the SQLite driver is not registered: %v", err))
	}
	defer db.Close()
	return db.Driver()
}()

// sqliteConnector opens connections to one SQLite database, each wrapped in a utcConn.
type sqliteConnector struct{ dsn string }

func (c sqliteConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := sqliteDriver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	full, ok := conn.(sqliteConn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("open sqlite: the driver's connection %T lacks a method of the context API", conn)
	}
	return utcConn{full}, nil
}

func (c sqliteConnector) Driver() driver.Driver { return sqliteDriver }

// sqliteConn is what the SQLite driver's connection implements and database/sql uses: a
// wrapper must offer all of it, or database/sql would fall back to slower or lesser paths.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
}

// utcConn is a connection to SQLite that writes times in UTC, to the microsecond.
type utcConn struct{ sqliteConn }

// CheckNamedValue converts an argument as database/sql does by default (driver.Valuer included,
// so a *time.Time or a custom type that stores a time counts too), then writes a time in UTC,
// truncated to the microsecond.
func (utcConn) CheckNamedValue(nv *driver.NamedValue) error {
	v, err := driver.DefaultParameterConverter.ConvertValue(nv.Value)
	if err != nil {
		return err
	}
	if t, ok := v.(time.Time); ok {
		v = t.UTC().Truncate(time.Microsecond)
	}
	nv.Value = v
	return nil
}
