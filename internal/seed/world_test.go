package seed_test

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/taskql/taskql/internal/seed"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
)

func TestParseTheExampleOfTheDesign(t *testing.T) {
	f, err := os.Open("testdata/design.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := seed.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		if err := seed.Load(t.Context(), st, w); err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{
			"organizations": 1, "companies": 1, "users": 1, "tokens": 1, "projects": 1, "project_members": 1,
			"phases": 1, "events": 0, "tasks": 1, "task_data": 0, "task_assignees": 1,
			"webhooks": 0, "webhook_outbox": 0, "webhook_deliveries": 0,
		}
		if diff := cmp.Diff(want, counts(t, st)); diff != "" {
			t.Errorf("rows per table (-want +got):\n%s", diff)
		}
	})
}

func TestParseIsStrict(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"unknown field", "{\n\"organizations\": [{\"id\": \"org_a\", \"nmae\": \"A\"}]}", `line 2: json: unknown field "nmae"`},
		{"wrong type", "{\"users\": [\n{\"id\": \"usr_a\", \"isOrgAdmin\": \"yes\"}]}", "line 2:"},
		{"more after the object", `{} {}`, "more after the world's object"},
		{"not JSON", `organizations:`, "parse world: line 1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := seed.Parse(strings.NewReader(tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse = %v, want an error saying %q", err, tt.want)
			}
		})
	}
}
