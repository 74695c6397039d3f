package rules

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/model"
)

func TestViolationErrorListsEveryOffendingID(t *testing.T) {
	err := &ViolationError{Violations: []Violation{
		{UserID: "usr_client", Reason: ReasonNotAgencyMember},
		{UserID: "usr_ghost", Reason: ReasonUserNotFound},
	}}
	if diff := cmp.Diff([]model.UserID{"usr_client", "usr_ghost"}, err.UserIDs()); diff != "" {
		t.Errorf("UserIDs (-want +got):\n%s", diff)
	}
	for _, id := range []string{"usr_client", "usr_ghost"} {
		if !strings.Contains(err.Error(), id) {
			t.Errorf("message %q does not name %s", err.Error(), id)
		}
	}
}

func TestErrorKinds(t *testing.T) {
	tests := []struct {
		name string
		err  error
		is   error
		not  []error
	}{
		{
			name: "bad input is BAD_USER_INPUT and nothing else",
			err:  badInput("first must be between 1 and %d, got %d", MaxPageSize, 0),
			is:   model.ErrBadInput,
			not:  []error{ErrNotFound, ErrForbidden, auth.ErrUnauthenticated},
		},
		{
			name: "not found is NOT_FOUND, never FORBIDDEN: existence must not leak",
			err:  notFound("task", "tsk_x"),
			is:   ErrNotFound,
			not:  []error{ErrForbidden, model.ErrBadInput},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", tt.err, tt.is)
			}
			for _, other := range tt.not {
				if errors.Is(tt.err, other) {
					t.Errorf("errors.Is(%v, %v) = true", tt.err, other)
				}
			}
		})
	}
}
