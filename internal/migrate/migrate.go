// Package migrate applies taskql's versioned, append-only schema migrations. Each migration is
// plain DDL with its dialect differences spelled out in one visible place; nothing is derived from
// the live model structs, so an old migration means the same thing forever.
package migrate

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Migration is one step of the schema. IDs sort in the order the steps apply; a released migration
// is never edited, only followed by another.
type Migration struct {
	ID string
	Up func(tx *gorm.DB, d Dialect) error
}

// Dialect names the SQL dialect a migration is written for.
type Dialect string

// The dialects taskql runs on.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// DialectOf tells the dialect of a GORM connection.
func DialectOf(db *gorm.DB) Dialect {
	if db.Dialector.Name() == "postgres" {
		return Postgres
	}
	return SQLite
}

// advisoryLockKey serialises migrations of several processes on one PostgreSQL database.
const advisoryLockKey = 7_341_590_223

// appliedMigration is the row of the bookkeeping table, a snapshot for this package alone.
type appliedMigration struct {
	ID        string `gorm:"primaryKey"`
	AppliedAt time.Time
}

func (appliedMigration) TableName() string { return "schema_migrations" }

// Up applies every migration not yet applied, each in its own transaction, and returns the ids it
// applied.
func Up(ctx context.Context, db *gorm.DB) ([]string, error) {
	db = db.WithContext(ctx)
	d := DialectOf(db)
	if d == Postgres {
		unlock, err := lock(ctx, db)
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	if err := db.Exec(ddl(d, `CREATE TABLE IF NOT EXISTS schema_migrations (
		id TEXT PRIMARY KEY,
		applied_at {ts} NOT NULL)`)).Error; err != nil {
		return nil, fmt.Errorf("migrate: bookkeeping table: %w", err)
	}
	var done []appliedMigration
	if err := db.Find(&done).Error; err != nil {
		return nil, fmt.Errorf("migrate: read applied: %w", err)
	}
	applied := make(map[string]bool, len(done))
	for _, m := range done {
		applied[m.ID] = true
	}
	var ran []string
	for _, m := range All {
		if applied[m.ID] {
			continue
		}
		if err := apply(db, d, m); err != nil {
			return ran, fmt.Errorf("migrate %s: %w", m.ID, err)
		}
		ran = append(ran, m.ID)
	}
	return ran, nil
}

// lock takes PostgreSQL's advisory lock of the migrations, so that several processes starting at
// once migrate one after another; unlock releases it. A session-level advisory lock must be taken
// and released on the same connection, held for the whole of Up.
func lock(ctx context.Context, db *gorm.DB) (unlock func(), err error) {
	conn, err := db.DB()
	if err != nil {
		return nil, err
	}
	c, err := conn.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	// Another process may migrate for longer than the sessions' lock_timeout: wait for it.
	if _, err := c.ExecContext(ctx, "SET lock_timeout = 0"); err != nil {
		c.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if _, err := c.ExecContext(ctx, "SELECT pg_advisory_lock($1)", advisoryLockKey); err != nil {
		c.Close()
		return nil, fmt.Errorf("migrate: lock: %w", err)
	}
	return func() {
		ctx := context.WithoutCancel(ctx)
		_, _ = c.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", advisoryLockKey)
		_, _ = c.ExecContext(ctx, "RESET lock_timeout")
		c.Close()
	}, nil
}

// apply runs one migration and records it, in one transaction.
func apply(db *gorm.DB, d Dialect, m Migration) error {
	return db.Transaction(func(tx *gorm.DB) error {
		if d == Postgres {
			// A migration may rewrite a large table: the request timeouts do not apply to it.
			if err := execAll(tx, "SET LOCAL statement_timeout = 0", "SET LOCAL lock_timeout = 0"); err != nil {
				return err
			}
		}
		if err := m.Up(tx, d); err != nil {
			return err
		}
		return tx.Create(&appliedMigration{ID: m.ID, AppliedAt: time.Now().UTC()}).Error
	})
}

// execAll runs each statement in order.
func execAll(tx *gorm.DB, stmts ...string) error {
	for _, s := range stmts {
		if err := tx.Exec(s).Error; err != nil {
			first, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
			return fmt.Errorf("%s: %w", first, err)
		}
	}
	return nil
}
