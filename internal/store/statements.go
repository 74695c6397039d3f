package store

import (
	"context"
	"sync/atomic"

	"gorm.io/gorm"
)

// StatementCounter counts the SQL statements run on behalf of one context: tests assert with it
// that a request runs a constant number of statements, whatever its page size. It counts only on a
// store opened WithStatementCounting.
type StatementCounter struct{ n atomic.Int64 }

// Count is the number of statements counted so far.
func (c *StatementCounter) Count() int { return int(c.n.Load()) }

type counterKey struct{}

// CountStatements returns a context under which every statement the store runs is counted.
func CountStatements(ctx context.Context) (context.Context, *StatementCounter) {
	c := &StatementCounter{}
	return context.WithValue(ctx, counterKey{}, c), c
}

// registerStatementCounter hooks the counting into every kind of statement GORM runs.
func registerStatementCounter(db *gorm.DB) error {
	return registerAfter(db, "taskql:count", func(tx *gorm.DB) {
		if tx.DryRun {
			return // a subquery, written into the statement that runs it
		}
		if c, ok := tx.Statement.Context.Value(counterKey{}).(*StatementCounter); ok {
			c.n.Add(1)
		}
	})
}
