package store

import (
	"context"
	"database/sql"
	"reflect"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/maypok86/otter/v2"

	"github.com/taskql/taskql/internal/migrate"
)

// readNative runs a read statement (query, with ? for each of args) through pgx itself, on
// PostgreSQL outside a transaction, and hands its rows to scan. database/sql would turn every value
// of every row into an interface and copy it again into its destination, and GORM would rebuild
// the statement: on a page of tasks that was a third of the server's CPU (docs/PERFORMANCE.md).
// The statement is counted (CountStatements) and its outcome watched (health) as GORM's callbacks
// do; where this does not apply (SQLite, a transaction, tracing, whose spans are GORM's plugin's)
// ok is false and the caller runs the statement through GORM. key names the statement's text
// (statement keeps it numbered).
func (s *Store) readNative(ctx context.Context, key, query string, args []any, scan func(pgx.Rows) error) (ok bool, err error) {
	pool, isPool := s.db.Statement.ConnPool.(*sql.DB)
	if s.dialect != migrate.Postgres || !isPool || s.traced {
		return false, nil
	}
	query = statement("$"+key+shapeOf(args), func() string { return numbered(query, args) })
	args = flat(args)
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

// statements keeps the texts of the hot reads' statements, which would otherwise be written anew
// for every request, by a key of what they are made of (the keys are few: filters × relations ×
// page sizes).
var statements = otter.Must(&otter.Options[string, string]{MaximumSize: 4096})

// statement is the text kept under key, written by write the first time.
func statement(key string, write func() string) string {
	if text, ok := statements.GetIfPresent(key); ok {
		return text
	}
	text := write()
	statements.Set(key, text)
	return text
}

// isList tells whether an argument is a list, which ? stands for as a parenthesised list of one
// parameter per item (GORM's Raw does the same); []byte is one value.
func isList(arg any) (reflect.Value, bool) {
	if _, isBytes := arg.([]byte); isBytes {
		return reflect.Value{}, false
	}
	v := reflect.ValueOf(arg)
	return v, v.Kind() == reflect.Slice
}

// shapeOf is what of args the numbered text depends on: the length of each list.
func shapeOf(args []any) string {
	b := make([]byte, 0, 4*len(args))
	for _, a := range args {
		b = append(b, '|')
		if v, ok := isList(a); ok {
			b = strconv.AppendInt(b, int64(v.Len()), 10)
		}
	}
	return string(b)
}

// numbered writes PostgreSQL's $1, $2… for the ? of query, as GORM's Raw does: a list argument is
// a parenthesised list of one parameter per item, (NULL) when empty. flat gives the parameters.
func numbered(query string, args []any) string {
	var b strings.Builder
	b.Grow(len(query) + 8*len(args))
	n, next := 0, 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' || next >= len(args) {
			b.WriteByte(query[i])
			continue
		}
		v, list := isList(args[next])
		next++
		if !list {
			n++
			b.WriteString("$" + strconv.Itoa(n))
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
			n++
			b.WriteString("$" + strconv.Itoa(n))
		}
		b.WriteByte(')')
	}
	return b.String()
}

// flat is the parameters of numbered's text: each list's items in place of the list.
func flat(args []any) []any {
	out := make([]any, 0, len(args))
	for _, a := range args {
		v, list := isList(a)
		if !list {
			out = append(out, a)
			continue
		}
		for j := range v.Len() {
			out = append(out, v.Index(j).Interface())
		}
	}
	return out
}
