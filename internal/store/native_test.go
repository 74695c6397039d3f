package store

import (
	"reflect"
	"testing"

	"github.com/taskql/taskql/model"
)

// numbered numbers the parameters of the statements readNative runs as GORM's Raw would.
func TestNumberedParametersAreGORMs(t *testing.T) {
	for _, c := range []struct {
		query    string
		args     []any
		want     string
		wantFlat []any
	}{
		{"SELECT 1", nil, "SELECT 1", []any{}},
		{"a = ? AND b = ?", []any{model.TaskID("tsk_1"), 2}, "a = $1 AND b = $2", []any{model.TaskID("tsk_1"), 2}},
		{"id IN ? AND o = ?", []any{[]model.TaskID{"tsk_1", "tsk_2"}, "org"}, "id IN ($1,$2) AND o = $3",
			[]any{model.TaskID("tsk_1"), model.TaskID("tsk_2"), "org"}},
		{"id IN ?", []any{[]string{}}, "id IN (NULL)", []any{}},
		{"j = ?", []any{[]byte(`{}`)}, "j = $1", []any{[]byte(`{}`)}},
	} {
		got, flat := numbered(c.query, c.args), flat(c.args)
		if got != c.want || !reflect.DeepEqual(flat, c.wantFlat) {
			t.Errorf("numbered(%q, %v) = %q, %v; want %q, %v", c.query, c.args, got, flat, c.want, c.wantFlat)
		}
	}
}
