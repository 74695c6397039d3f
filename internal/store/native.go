package store

import (
	"context"
	"database/sql"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"github.com/taskql/taskql/internal/migrate"
)

// readNative runs a read statement made by GORM's Raw through pgx itself, on PostgreSQL outside a
// transaction, and hands its rows to scan. database/sql would turn every value of every row into
// an interface and copy it again into its destination: on a page of tasks that was a third of the
// server's CPU (docs/PERFORMANCE.md). The statement is counted (CountStatements) and its outcome
// watched (health) as GORM's callbacks do; where this does not apply (SQLite, a transaction,
// tracing, whose spans are GORM's plugin's) ok is false and the caller runs q through GORM.
func (s *Store) readNative(ctx context.Context, q *gorm.DB, scan func(pgx.Rows) error) (ok bool, err error) {
	pool, isPool := s.db.Statement.ConnPool.(*sql.DB)
	if s.dialect != migrate.Postgres || !isPool || s.traced {
		return false, nil
	}
	if q.Error != nil {
		return true, q.Error
	}
	query, args := q.Statement.SQL.String(), q.Statement.Vars
	if c, ok := ctx.Value(counterKey{}).(*StatementCounter); ok {
		c.n.Add(1)
	}
	conn, err := pool.Conn(ctx)
	if err == nil {
		err = conn.Raw(func(dc any) error {
			rows, err := dc.(*stdlib.Conn).Conn().Query(ctx, query, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			return scan(rows)
		})
		_ = conn.Close()
	}
	s.health.note(err)
	return true, err
}
