package store

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm/schema"

	"github.com/taskql/taskql/model"
)

// The columns the hot reads scan by hand are every column GORM maps of the entity, in the order
// of the struct's fields, and each has one destination: a field added to an entity fails here
// until the scan reads it too.
func TestHandScansReadEveryColumnOfTheirEntity(t *testing.T) {
	for _, c := range []struct {
		entity  any
		columns []string
		dest    int
	}{
		{&model.Task{}, taskColumns, len(taskDest(&model.Task{}))},
		{&model.Phase{}, phaseColumns, len(phaseDest(&model.Phase{}))},
		{&model.User{}, userColumns, len(userDest(&model.User{}))},
	} {
		s, err := schema.Parse(c.entity, &sync.Map{}, schema.NamingStrategy{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(s.DBNames, c.columns) {
			t.Errorf("%s: the scan reads %v, GORM maps %v", s.Name, c.columns, s.DBNames)
		}
		if c.dest != len(c.columns) {
			t.Errorf("%s: %d destinations for %d columns", s.Name, c.dest, len(c.columns))
		}
	}
}

// A lean read (With.Lean) names only the lean columns, and scans each into its field.
func TestLeanReadsReadOnlyTheLeanColumns(t *testing.T) {
	w := &taskWhere{}
	w.and("tasks.id IN ?", []string{"tsk_1"})
	for _, limit := range []int{0, 10} {
		q := taskQuery(w, With{Phases: true, Assignees: true, Lean: true}, limit)
		for _, c := range []string{"tasks.description", "tasks.completed_action", "u.avatar", "u.is_org_admin", "u.created_at"} {
			if strings.Contains(q, c) {
				t.Errorf("lean statement (limit %d) reads %s: %s", limit, c, q)
			}
		}
		if !strings.Contains(q, leanTaskSelect) || !strings.Contains(q, leanAssigneeSelect) || !strings.Contains(q, phaseSelect) {
			t.Errorf("lean statement (limit %d) lacks a lean column: %s", limit, q)
		}
	}
	r := newTaskReader(With{Phases: true, Assignees: true, Lean: true})
	if got, want := len(r.full), len(leanTaskColumns)+len(phaseColumns)+len(leanUserColumns); got != want {
		t.Errorf("%d destinations of a lean row, want %d", got, want)
	}
	if got, want := len(r.again), len(r.full); got != want {
		t.Errorf("%d destinations of a repeated lean row, want %d", got, want)
	}
	for _, c := range leanTaskColumns {
		if !slices.Contains(taskColumns, c) {
			t.Errorf("lean column tasks.%s is not a column of a task", c)
		}
	}
	for _, c := range leanUserColumns {
		if !slices.Contains(userColumns, c) {
			t.Errorf("lean column users.%s is not a column of a user", c)
		}
	}
}
