package rest_test

import (
	"testing"

	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testworld"
)

// The world every end-to-end test starts from: internal/testworld, which the GraphQL adapter's tests
// share.
const (
	tokAdmin, tokAda, tokCat, tokDan = testworld.TokAdmin, testworld.TokAda, testworld.TokCat, testworld.TokDan
	tokEve, tokFay, tokZed           = testworld.TokEve, testworld.TokFay, testworld.TokZed
)

func seedWorld(t testing.TB, st *store.Store) { testworld.Seed(t, st) }

func ptr[T any](v T) *T { return &v }
