package rules

import (
	"fmt"
	"testing"
	"time"

	"github.com/taskql/taskql/model"
)

// Read-your-writes (DESIGN §11): a viewer that wrote reads with a Fresh scope for the window, and
// only then; the marks of writers long gone are pruned as new ones come.
func TestAViewerThatWroteReadsFreshForTheWindow(t *testing.T) {
	s := New(nil, WithReadYourWrites(time.Hour))
	ada := &model.Viewer{User: &model.User{ID: "usr_ada", OrganizationID: "org_acme", IsAccessApproved: true}}
	if sc, _ := s.scope(ada); sc.Fresh {
		t.Errorf("before any write: Fresh")
	}
	s.wrote(ada.ID)
	if sc, _ := s.scope(ada); !sc.Fresh {
		t.Errorf("after a write: not Fresh")
	}
	if sc, _ := New(nil).scope(ada); sc.Fresh {
		t.Errorf("without read-your-writes (no replica): Fresh")
	}

	w := &writers{window: time.Millisecond, at: map[model.UserID]time.Time{}}
	w.wrote("usr_old")
	time.Sleep(2 * time.Millisecond) // the window passes
	if w.lately("usr_old") {
		t.Errorf("a mark older than the window still counts")
	}
	for i := range 200 {
		w.wrote(model.UserID(fmt.Sprintf("usr_%d", i)))
	}
	if _, kept := w.at["usr_old"]; kept || len(w.at) > 200 {
		t.Errorf("%d marks kept, usr_old among them: %v", len(w.at), kept)
	}
}
