package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
	"github.com/taskql/taskql/model"
)

// jsonAsGiven are JSON documents that a normalizing store (PostgreSQL's jsonb) would give back
// changed: keys reordered, spaces dropped, escapes decoded, numbers rewritten, a repeated key
// dropped.
var jsonAsGiven = []model.JSON{
	model.JSON(`{"b": 1,  "a": [2, 1]}`),
	model.JSON(`{ "zeta" : {"y": null, "x": true},` + "\n\t" + `"alpha": "\u00e9t\u00e9" }`),
	model.JSON(`{"n": 1.50, "m": 1e2, "l": -0.0}`),
	model.JSON(`{"dup": 1, "dup": 2}`),
	model.JSON(`[3,  1, 2]`),
	model.JSON(` "just a string" `),
}

// The JSON scalar is "Any JSON value, given and returned as it is" (schema.graphqls): an event's
// data, a task's completedAction and a task data entry's data come back from the store as the
// text they were given, on PostgreSQL as on SQLite.
func TestJSONComesBackAsGiven(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		newWorld(t, st)
		var (
			events   []model.Event
			tasks    []model.Task
			taskData []model.TaskData
		)
		for i, doc := range jsonAsGiven {
			task := model.TaskID(fmt.Sprintf("tsk_json%d", i))
			event := model.EventID(fmt.Sprintf("evt_json%d", i))
			events = append(events, model.Event{ID: event, OrganizationID: "org_a", Name: "test.json",
				Entity: "task", EntityID: string(task), Data: doc, Timestamp: seededAt})
			tasks = append(tasks, model.Task{ID: task, OrganizationID: "org_a", ProjectID: "prj_a", PhaseID: "phs_a",
				Label: "JSON", Type: model.TaskTypeCallAnalysis, Status: model.TaskStatusCompleted,
				CompletedAction: doc, TriggerEventID: &event, CreatedAt: seededAt, ModifiedAt: seededAt})
			taskData = append(taskData, model.TaskData{ID: model.TaskDataID(fmt.Sprintf("tdt_json%d", i)), TaskID: task,
				Source: model.TaskDataSourceEmail, Type: model.TaskDataTypeResponse, Data: doc, CreatedAt: seededAt, ModifiedAt: seededAt})
		}
		for _, rows := range []any{&events, &tasks, &taskData} {
			if err := st.Create(t.Context(), rows); err != nil {
				t.Fatalf("create %T: %v", rows, err)
			}
		}

		eventIDs, taskIDs := make([]model.EventID, len(events)), make([]model.TaskID, len(tasks))
		for i := range events {
			eventIDs[i], taskIDs[i] = events[i].ID, tasks[i].ID
		}
		gotEvents, err := st.EventsByID(t.Context(), admin, eventIDs)
		if err != nil {
			t.Fatal(err)
		}
		gotTasks, err := st.TasksByID(t.Context(), admin, taskIDs, store.With{})
		if err != nil {
			t.Fatal(err)
		}
		gotData, err := st.TaskDataOf(t.Context(), admin, taskIDs)
		if err != nil {
			t.Fatal(err)
		}
		// WriteChange writes its event in a statement of its own on PostgreSQL.
		change := &model.Event{ID: "evt_change", OrganizationID: "org_a", Name: model.EventAssigneesChanged,
			Entity: "task", EntityID: "tsk_a", Data: jsonAsGiven[0]}
		if err := st.WithTx(t.Context(), func(tx *store.Store) error {
			_, err := tx.WriteChange(t.Context(), "tsk_a", time.Time{}, nil, nil, change)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		history, err := st.EventsOf(t.Context(), admin, "tsk_a", store.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(history.Items) != 1 {
			t.Fatalf("tsk_a has %d events, want the one WriteChange wrote", len(history.Items))
		}
		if got := history.Items[0].Data; string(got) != string(jsonAsGiven[0]) {
			t.Errorf("data of the event WriteChange wrote = %#q, want %#q as given", got, jsonAsGiven[0])
		}

		for i, want := range jsonAsGiven {
			for what, got := range map[string]model.JSON{
				"event data":           data(gotEvents[eventIDs[i]], func(e *model.Event) model.JSON { return e.Data }),
				"task completedAction": data(gotTasks[taskIDs[i]], func(t *model.Task) model.JSON { return t.CompletedAction }),
				"task data entry data": dataEntry(gotData[taskIDs[i]]),
			} {
				if string(got) != string(want) {
					t.Errorf("%s = %#q, want %#q as given", what, got, want)
				}
			}
		}
	})
}

// data is a row's JSON, or nil when the row is missing.
func data[T any](row *T, field func(*T) model.JSON) model.JSON {
	if row == nil {
		return nil
	}
	return field(row)
}

// dataEntry is the JSON of a task's only data entry, or nil when it has none.
func dataEntry(entries []*model.TaskData) model.JSON {
	if len(entries) != 1 {
		return nil
	}
	return entries[0].Data
}
