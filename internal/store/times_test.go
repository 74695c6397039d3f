package store_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
	"github.com/taskql/taskql/model"
)

// Three instants, each in another zone, whose order as text ("05:00-05:00" < "09:00+00:00" <
// "10:30+02:00") is the reverse of their order in time.
var (
	first  = time.Date(2024, 1, 2, 10, 30, 0, 0, time.FixedZone("CEST", 2*60*60)) // 08:30 UTC
	second = time.Date(2024, 1, 2, 9, 0, 0, 123456789, time.UTC)                  // stored to the microsecond
	third  = time.Date(2024, 1, 2, 5, 0, 0, 0, time.FixedZone("EST", -5*60*60))   // 10:00 UTC
)

// DESIGN §1: Task.events lists a task's events oldest first, whatever the zone of the time.Time a
// writer gave each; SQLite stores times as text, which sorts by time only when every time is
// written in one zone. The times come back in UTC, as the API shows them.
func TestEventsAreOldestFirstWhateverTheWritersZone(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		newWorld(t, st)
		event := func(id model.EventID, at time.Time) model.Event {
			return model.Event{ID: id, OrganizationID: "org_a", Name: "test.time", Entity: "task", EntityID: "tsk_a", Timestamp: at}
		}
		// Ids in the reverse order of time, so that a tie on time would show too.
		events := []model.Event{event("evt_c", first), event("evt_b", second), event("evt_a", third)}
		if err := st.Create(t.Context(), &events); err != nil {
			t.Fatal(err)
		}
		type row struct {
			ID model.EventID
			At time.Time
		}
		list := func(p store.Page) []row {
			t.Helper()
			l, err := st.EventsOf(t.Context(), admin, "tsk_a", p)
			if err != nil {
				t.Fatal(err)
			}
			var rows []row
			for _, e := range l.Items {
				if e.Timestamp.Location() != time.UTC {
					t.Errorf("event %s: timestamp %s, want it in UTC", e.ID, e.Timestamp)
				}
				rows = append(rows, row{e.ID, e.Timestamp})
			}
			return rows
		}
		want := []row{{"evt_c", first.UTC()}, {"evt_b", second.Truncate(time.Microsecond)}, {"evt_a", third.UTC()}}
		if diff := cmp.Diff(want, list(store.Page{Limit: 10})); diff != "" {
			t.Errorf("events oldest first (-want +got):\n%s", diff)
		}
		// A page after the first event, whose position is given in yet another zone.
		after := store.Page{Limit: 10, AfterID: "evt_c", AfterTime: first.In(time.FixedZone("IST", 5*60*60+30*60))}
		if diff := cmp.Diff(want[1:], list(after)); diff != "" {
			t.Errorf("events after the first (-want +got):\n%s", diff)
		}
		// A cursor holds microseconds: a page after the second event does not give it again.
		after = store.Page{Limit: 10, AfterID: "evt_b", AfterTime: second.Truncate(time.Microsecond)}
		if diff := cmp.Diff(want[2:], list(after)); diff != "" {
			t.Errorf("events after the second (-want +got):\n%s", diff)
		}
	})
}

// DESIGN §1: a task's assignees are in the order they were assigned, whatever the zone of the
// time.Time a writer gave each.
func TestAssigneesAreInTheOrderAssignedWhateverTheWritersZone(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		newWorld(t, st, user("usr_a", "Ann", "A", "a@acme.test"), user("usr_b", "Ben", "B", "b@acme.test"),
			user("usr_c", "Cy", "C", "c@acme.test"))
		rows := []store.TaskAssignee{
			{TaskID: "tsk_a", UserID: "usr_c", AssignedAt: first},
			{TaskID: "tsk_a", UserID: "usr_b", AssignedAt: second},
			{TaskID: "tsk_a", UserID: "usr_a", AssignedAt: third},
		}
		if err := st.Create(t.Context(), &rows); err != nil {
			t.Fatal(err)
		}
		got, err := st.AssigneesOf(t.Context(), admin, []model.TaskID{"tsk_a"})
		if err != nil {
			t.Fatal(err)
		}
		var ids []model.UserID
		for _, u := range got["tsk_a"] {
			ids = append(ids, u.ID)
		}
		if diff := cmp.Diff([]model.UserID{"usr_c", "usr_b", "usr_a"}, ids); diff != "" {
			t.Errorf("assignees in the order assigned (-want +got):\n%s", diff)
		}
	})
}
