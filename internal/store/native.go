package store

import (
	"context"
	"database/sql"
	"reflect"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/taskql/taskql/internal/migrate"
)

// readNative runs a read statement (query, with ? for each of args) through pgx itself, on
// PostgreSQL outside a transaction, and hands its rows to scan. database/sql would turn every value
// of every row into an interface and copy it again into its destination, and GORM would rebuild
// the statement: on a page of tasks that was a third of the server's CPU (docs/PERFORMANCE.md).
// The statement is counted (CountStatements) and its outcome watched (health) as GORM's callbacks
// do; where this does not apply (SQLite, a transaction, tracing, whose spans are GORM's plugin's)
// ok is false and the caller runs the statement through GORM.
func (s *Store) readNative(ctx context.Context, query string, args []any, scan func(pgx.Rows) error) (ok bool, err error) {
	pool, isPool := s.db.Statement.ConnPool.(*sql.DB)
	if s.dialect != migrate.Postgres || !isPool || s.traced {
		return false, nil
	}
	query, args = numbered(query, args)
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

// numbered writes PostgreSQL's $1, $2… for the ? of query, as GORM's Raw does: a slice argument
// (but []byte) is a parenthesised list of one parameter per item, (NULL) when empty.
func numbered(query string, args []any) (string, []any) {
	var (
		b    strings.Builder
		flat = make([]any, 0, len(args))
		next = 0
	)
	b.Grow(len(query) + 8*len(args))
	param := func(v any) {
		flat = append(flat, v)
		b.WriteString("$" + strconv.Itoa(len(flat)))
	}
	for i := 0; i < len(query); i++ {
		if query[i] != '?' || next >= len(args) {
			b.WriteByte(query[i])
			continue
		}
		arg := args[next]
		next++
		v := reflect.ValueOf(arg)
		if _, isBytes := arg.([]byte); isBytes || v.Kind() != reflect.Slice {
			param(arg)
			continue
		}
		if v.Len() == 0 {
			b.WriteString("(NULL)")
			continue
		}
		b.WriteByte('(')
		for j := range v.Len() {
			if j > 0 {
				b.WriteByte(',')
			}
			param(v.Index(j).Interface())
		}
		b.WriteByte(')')
	}
	return b.String(), flat
}
