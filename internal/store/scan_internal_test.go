package store

import (
	"slices"
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
