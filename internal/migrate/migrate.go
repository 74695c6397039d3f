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
// applied. On PostgreSQL each of those transactions holds the migrations' advisory lock and looks
// again whether another process applied the migration meanwhile: several processes starting at
// once migrate one after another, each migration once.
func Up(ctx context.Context, db *gorm.DB) ([]string, error) {
	db = db.WithContext(ctx)
	d := DialectOf(db)
	err := locked(db, d, func(tx *gorm.DB) error {
		return tx.Exec(ddl(d, `CREATE TABLE IF NOT EXISTS schema_migrations (
			id TEXT PRIMARY KEY,
			applied_at {ts} NOT NULL)`)).Error
	})
	if err != nil {
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
		did, err := apply(db, d, m)
		if err != nil {
			return ran, fmt.Errorf("migrate %s: %w", m.ID, err)
		}
		if did {
			ran = append(ran, m.ID)
		}
	}
	return ran, nil
}

// locked runs fn in a transaction that holds, on PostgreSQL, the migrations' advisory lock until
// it ends (pg_advisory_xact_lock). A transaction's lock holds through a pooler in transaction mode
// too (DESIGN §11), where a session-level lock would be taken on one server session, perhaps
// released on another, and left behind. Another process may migrate for longer than the
// sessions' lock_timeout, and a migration may rewrite a large table: the request timeouts do not
// apply here.
func locked(db *gorm.DB, d Dialect, fn func(tx *gorm.DB) error) error {
	return db.Transaction(func(tx *gorm.DB) error {
		if d == Postgres {
			err := execAll(tx, "SET LOCAL statement_timeout = 0", "SET LOCAL lock_timeout = 0",
				fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", advisoryLockKey))
			if err != nil {
				return err
			}
		}
		return fn(tx)
	})
}

// apply runs one migration and records it, in one transaction under the lock, unless another
// process applied it meanwhile; it tells whether it did.
func apply(db *gorm.DB, d Dialect, m Migration) (did bool, err error) {
	err = locked(db, d, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&appliedMigration{}).Where("id = ?", m.ID).Count(&n).Error; err != nil || n > 0 {
			return err
		}
		if err := m.Up(tx, d); err != nil {
			return err
		}
		did = true
		return tx.Create(&appliedMigration{ID: m.ID, AppliedAt: time.Now().UTC()}).Error
	})
	return did && err == nil, err
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
