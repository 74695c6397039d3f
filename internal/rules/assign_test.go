package rules

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

// The decisions of DESIGN §3 as pure functions of facts: no database.

func TestViolations(t *testing.T) {
	member := func(id model.UserID, agency bool) store.CandidateFacts {
		return store.CandidateFacts{User: &model.User{ID: id}, ProjectMember: true, Agency: agency}
	}
	nonMember := func(id model.UserID, agency bool) store.CandidateFacts {
		return store.CandidateFacts{User: &model.User{ID: id}, ProjectMember: false, Agency: agency}
	}
	known := func(fs ...store.CandidateFacts) map[model.UserID]store.CandidateFacts {
		m := map[model.UserID]store.CandidateFacts{}
		for _, f := range fs {
			m[f.ID] = f
		}
		return m
	}
	tests := []struct {
		name       string
		internal   bool
		candidates []model.UserID
		known      map[model.UserID]store.CandidateFacts
		want       []Violation
	}{
		{
			name:       "agency member of the project may be assigned to a task in an internal phase",
			internal:   true,
			candidates: []model.UserID{"usr_agent"},
			known:      known(member("usr_agent", true)),
		},
		{
			name:       "client member of the project may be assigned to a task in a phase that is not internal",
			candidates: []model.UserID{"usr_client"},
			known:      known(member("usr_client", false)),
		},
		{
			name:       "no candidates break no rule",
			internal:   true,
			candidates: nil,
			known:      known(),
		},
		{
			name:       "rule 1: a user that does not exist in the task's organization is USER_NOT_FOUND",
			candidates: []model.UserID{"usr_ghost"},
			known:      known(),
			want:       []Violation{{UserID: "usr_ghost", Reason: ReasonUserNotFound}},
		},
		{
			name:       "rule 2: a user that is not a member of the task's project is NOT_PROJECT_MEMBER",
			candidates: []model.UserID{"usr_outsider"},
			known:      known(nonMember("usr_outsider", true)),
			want:       []Violation{{UserID: "usr_outsider", Reason: ReasonNotProjectMember}},
		},
		{
			name:       "rule 3: client member on internal phase is NOT_AGENCY_MEMBER",
			internal:   true,
			candidates: []model.UserID{"usr_client"},
			known:      known(member("usr_client", false)),
			want:       []Violation{{UserID: "usr_client", Reason: ReasonNotAgencyMember}},
		},
		{
			name:       "first broken rule wins: a non-member client user on an internal phase is NOT_PROJECT_MEMBER",
			internal:   true,
			candidates: []model.UserID{"usr_clientout"},
			known:      known(nonMember("usr_clientout", false)),
			want:       []Violation{{UserID: "usr_clientout", Reason: ReasonNotProjectMember}},
		},
		{
			name:       "first broken rule wins: a user that does not exist is USER_NOT_FOUND on an internal phase too",
			internal:   true,
			candidates: []model.UserID{"usr_ghost"},
			known:      known(),
			want:       []Violation{{UserID: "usr_ghost", Reason: ReasonUserNotFound}},
		},
		{
			name:     "every offending user is listed, one violation each, sorted by user id; the others are not",
			internal: true,
			candidates: []model.UserID{
				"usr_zed", "usr_client", "usr_agent", "usr_ghost", "usr_outsider",
			},
			known: known(
				member("usr_agent", true),
				member("usr_client", false),
				nonMember("usr_outsider", true),
				nonMember("usr_zed", false),
			),
			want: []Violation{
				{UserID: "usr_client", Reason: ReasonNotAgencyMember},
				{UserID: "usr_ghost", Reason: ReasonUserNotFound},
				{UserID: "usr_outsider", Reason: ReasonNotProjectMember},
				{UserID: "usr_zed", Reason: ReasonNotProjectMember},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := violations(tt.internal, tt.candidates, tt.known)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOverLimit(t *testing.T) {
	tests := []struct {
		name  string
		next  []model.UserID
		added []model.UserID
		max   int
		want  []Violation
	}{
		{
			name:  "a set that reaches the limit exactly is not past it",
			next:  []model.UserID{"usr_a", "usr_b"},
			added: []model.UserID{"usr_b"},
			max:   2,
		},
		{
			name:  "going past the limit is TOO_MANY_ASSIGNEES for each user the call would add, sorted",
			next:  []model.UserID{"usr_a", "usr_c", "usr_b"},
			added: []model.UserID{"usr_c", "usr_b"},
			max:   2,
			want: []Violation{
				{UserID: "usr_b", Reason: ReasonTooManyAssignees},
				{UserID: "usr_c", Reason: ReasonTooManyAssignees},
			},
		},
		{
			name:  "users already assigned are not blamed for the limit",
			next:  []model.UserID{"usr_a", "usr_b", "usr_c"},
			added: []model.UserID{"usr_c"},
			max:   2,
			want:  []Violation{{UserID: "usr_c", Reason: ReasonTooManyAssignees}},
		},
		{
			name:  "a call that adds nobody is never past the limit, even on a set already larger than it",
			next:  []model.UserID{"usr_a", "usr_b", "usr_c"},
			added: []model.UserID{},
			max:   2,
		},
		{
			name:  "a limit of zero refuses every addition",
			next:  []model.UserID{"usr_a"},
			added: []model.UserID{"usr_a"},
			max:   0,
			want:  []Violation{{UserID: "usr_a", Reason: ReasonTooManyAssignees}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := overLimit(tt.next, tt.added, tt.max)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("overLimit (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	type change struct{ Added, Removed []model.UserID }
	tests := []struct {
		name      string
		old, next []model.UserID
		// The event's data lists are never null: an empty side is an empty list.
		want change
	}{
		{
			name: "an unchanged set adds and removes nothing (empty lists, not null)",
			old:  []model.UserID{"usr_a", "usr_b"},
			next: []model.UserID{"usr_a", "usr_b"},
			want: change{Added: []model.UserID{}, Removed: []model.UserID{}},
		},
		{
			name: "from no assignees every user is added",
			old:  nil,
			next: []model.UserID{"usr_b", "usr_a"},
			want: change{Added: []model.UserID{"usr_a", "usr_b"}, Removed: []model.UserID{}},
		},
		{
			name: "to no assignees every user is removed",
			old:  []model.UserID{"usr_b", "usr_a"},
			next: nil,
			want: change{Added: []model.UserID{}, Removed: []model.UserID{"usr_a", "usr_b"}},
		},
		{
			name: "the difference is net: a user in both sets is neither added nor removed",
			old:  []model.UserID{"usr_keep", "usr_gone"},
			next: []model.UserID{"usr_new", "usr_keep"},
			want: change{Added: []model.UserID{"usr_new"}, Removed: []model.UserID{"usr_gone"}},
		},
		{
			name: "added and removed are each sorted whatever the order of the sets",
			old:  []model.UserID{"usr_z", "usr_m", "usr_x"},
			next: []model.UserID{"usr_x", "usr_d", "usr_c"},
			want: change{Added: []model.UserID{"usr_c", "usr_d"}, Removed: []model.UserID{"usr_m", "usr_z"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			added, removed := diff(tt.old, tt.next)
			if d := cmp.Diff(tt.want, change{Added: added, Removed: removed}); d != "" {
				t.Errorf("diff (-want +got):\n%s", d)
			}
		})
	}
}

func TestUnique(t *testing.T) {
	tests := []struct {
		name string
		ids  []model.UserID
		want []model.UserID
	}{
		{
			name: "repeats in userIds are dropped, keeping the order in which each was first listed",
			ids:  []model.UserID{"usr_b", "usr_a", "usr_b", "usr_c", "usr_a"},
			want: []model.UserID{"usr_b", "usr_a", "usr_c"},
		},
		{
			name: "ids without repeats are kept as given",
			ids:  []model.UserID{"usr_c", "usr_a", "usr_b"},
			want: []model.UserID{"usr_c", "usr_a", "usr_b"},
		},
		{
			name: "one id listed a hundred times is one candidate",
			ids:  repeat("usr_a", 100),
			want: []model.UserID{"usr_a"},
		},
		{
			name: "no ids give none",
			ids:  nil,
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, unique(tt.ids), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("unique (-want +got):\n%s", diff)
			}
		})
	}
}

func repeat(id model.UserID, n int) []model.UserID {
	ids := make([]model.UserID, n)
	for i := range ids {
		ids[i] = id
	}
	return ids
}
