package graph_test

import (
	"testing"
	"time"

	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testworld"
)

// The world every end-to-end test starts from: internal/testworld, which the REST adapter's tests
// share.
const (
	tokAdmin, tokAda, tokCat, tokDan = testworld.TokAdmin, testworld.TokAda, testworld.TokCat, testworld.TokDan
	tokEve, tokFay, tokZed           = testworld.TokEve, testworld.TokFay, testworld.TokZed
	seededModifiedAt                 = testworld.SeededModifiedAt
)

var seededAt = testworld.SeededAt

func seedWorld(t testing.TB, st *store.Store) { testworld.Seed(t, st) }

func at(day int) time.Time { return time.Date(2024, 1, day, 12, 0, 0, 0, time.UTC) }

func ptr[T any](v T) *T { return &v }
