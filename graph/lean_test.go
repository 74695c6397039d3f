package graph_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/taskql/taskql/graph"
)

// A selection of tasks made only of lean fields reads only the columns they need (graph/lookahead.go,
// store.With.Lean), and leaves the tasks' and assignees' other fields zero. Each field of Task, and
// each of User under a task's assignees, is asked alone (the leanest selection that shows it) of
// every task, and must show what node(id) shows, which reads every column: a field read lean but
// served by a column that lean leaves out fails here. So that this can fail for every field, the
// test world gives each a value that is not zero on some task or assignee, but for those named in
// zeroInWorld.
func TestLeanReadsShowWhatEveryColumnShows(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	// zeroInWorld are the fields that no task or assignee of the test world sets.
	zeroInWorld := []string{"User.defaultEmailSenderId", "User.isOrgAdmin", "User.onboardingRequired"}
	eachDB(t, func(t *testing.T, a *api) {
		for _, c := range []struct{ typ, open, close string }{{"Task", "", ""}, {"User", "assignees { id ", " }"}} {
			for _, f := range schema.Types[c.typ].Fields {
				if strings.HasPrefix(f.Name, "__") || requiresArguments(f) {
					continue
				}
				sel := c.open + f.Name + subselection(schema, f) + c.close
				lean := tasksByID(t, a.post(tokAdmin, `{ tasks(first: 100) { nodes { id `+sel+` } } }`, nil).ok())
				if len(lean) < 5 {
					t.Fatalf("%d tasks, want the test world's", len(lean))
				}
				set := false
				for id, got := range lean {
					var full struct{ Node json.RawMessage }
					decode(t, a.post(tokAdmin, `query($id: ID!) { node(id: $id) { ... on Task { id `+sel+` } } }`,
						map[string]any{"id": id}).ok(), &full)
					jsonEqual(t, c.typ+"."+f.Name+" of "+id, string(full.Node), got)
					set = set || notZero(t, got, c.typ == "User", f.Name)
				}
				if zero := slices.Contains(zeroInWorld, c.typ+"."+f.Name); set == zero {
					t.Errorf("%s.%s: set in the test world %v, listed in zeroInWorld %v: this test cannot tell whether a lean read leaves it out", c.typ, f.Name, set, zero)
				}
			}
		}
	})
}

func requiresArguments(f *ast.FieldDefinition) bool {
	return slices.ContainsFunc(f.Arguments, func(a *ast.ArgumentDefinition) bool { return a.Type.NonNull && a.DefaultValue == nil })
}

// subselection is what a field of an object type must select: its __typename.
func subselection(schema *ast.Schema, f *ast.FieldDefinition) string {
	if schema.Types[f.Type.Name()].IsCompositeType() {
		return " { __typename }"
	}
	return ""
}

// tasksByID is each task of a tasks { nodes } answer, by id.
func tasksByID(t *testing.T, data json.RawMessage) map[string]json.RawMessage {
	t.Helper()
	var d struct {
		Tasks struct{ Nodes []json.RawMessage }
	}
	decode(t, data, &d)
	out := map[string]json.RawMessage{}
	for _, n := range d.Tasks.Nodes {
		var key struct{ ID string }
		decode(t, n, &key)
		out[key.ID] = n
	}
	return out
}

// notZero tells whether the task shows a value of the field other than its zero (null, false,
// "", 0, empty): for a user field, on any of its assignees.
func notZero(t *testing.T, task json.RawMessage, user bool, field string) bool {
	t.Helper()
	var objects []map[string]any
	if user {
		var v struct{ Assignees []map[string]any }
		decode(t, task, &v)
		objects = v.Assignees
	} else {
		var v map[string]any
		decode(t, task, &v)
		objects = []map[string]any{v}
	}
	return slices.ContainsFunc(objects, func(o map[string]any) bool {
		v := o[field]
		return v != nil && !reflect.ValueOf(v).IsZero() && !(reflect.ValueOf(v).Kind() == reflect.Slice && reflect.ValueOf(v).Len() == 0)
	})
}
