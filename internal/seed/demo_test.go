package seed_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/taskql/taskql/internal/seed"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
	"github.com/taskql/taskql/model"
)

func TestDemoLoadsOnceOnly(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		if err := seed.Load(t.Context(), st, seed.Demo()); err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{
			"organizations": 2, "companies": 3, "users": 7, "tokens": 7, "projects": 3, "project_members": 9,
			"phases": 6, "events": 1, "tasks": 9, "task_data": 1, "task_assignees": 8,
			"webhooks": 0, "webhook_outbox": 0, "webhook_deliveries": 0,
		}
		if diff := cmp.Diff(want, counts(t, st)); diff != "" {
			t.Errorf("rows per table (-want +got):\n%s", diff)
		}
		err := seed.Load(t.Context(), st, seed.Demo())
		if err == nil || !strings.Contains(err.Error(), "organization org_acme already exists in the database") {
			t.Errorf("loading the demo twice = %v, want it refused", err)
		}
		if diff := cmp.Diff(want, counts(t, st)); diff != "" {
			t.Errorf("a refused second load changed the rows (-want +got):\n%s", diff)
		}
	})
}

// The demo's doc comment promises users of every kind the rules tell apart.
func TestDemoHasAUserOfEveryKind(t *testing.T) {
	w := seed.Demo()
	kinds := map[string]string{}
	for _, co := range w.Companies {
		kinds[co.ID] = co.Kind
	}
	var admins, clients, unapproved int
	for _, u := range w.Users {
		if u.IsOrgAdmin {
			admins++
		}
		if kinds[u.CompanyID] == "CLIENT" {
			clients++
		}
		if u.IsAccessApproved != nil && !*u.IsAccessApproved {
			unapproved++
		}
	}
	if admins == 0 || clients == 0 || unapproved == 0 {
		t.Errorf("demo has %d org admins, %d client users, %d unapproved users; want each", admins, clients, unapproved)
	}
	internal := map[string]bool{}
	for _, ph := range w.Phases {
		internal[ph.ProjectID] = internal[ph.ProjectID] || ph.Internal
	}
	for _, p := range w.Projects {
		if p.OrganizationID == "org_acme" && !internal[p.ID] {
			t.Errorf("demo project %s has no internal phase", p.ID)
		}
	}
	if len(w.Tokens) != len(w.Users) {
		t.Errorf("demo has %d tokens for %d users, want one each", len(w.Tokens), len(w.Users))
	}
}

// A world written as JSON reads back the same: the field names of World are those of the file.
func TestDemoRoundTripsThroughJSON(t *testing.T) {
	text, err := json.MarshalIndent(seed.Demo(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got, err := seed.Parse(bytes.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	sameJSON := cmp.Comparer(func(a, b model.JSON) bool {
		if len(a) == 0 || len(b) == 0 {
			return len(a) == len(b)
		}
		var ca, cb bytes.Buffer
		return json.Compact(&ca, a) == nil && json.Compact(&cb, b) == nil && bytes.Equal(ca.Bytes(), cb.Bytes())
	})
	if diff := cmp.Diff(seed.Demo(), got, sameJSON); diff != "" {
		t.Errorf("demo after a JSON round trip (-want +got):\n%s", diff)
	}
}
