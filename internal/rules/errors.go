package rules

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

// The kinds of failure a client can be told about, besides auth.ErrUnauthenticated (no viewer)
// and model.ErrBadInput (malformed input, found wherever it is parsed). Anything else is internal.
var (
	// ErrForbidden: the viewer's access is not approved.
	ErrForbidden = errors.New("forbidden")
	// ErrAdminOnly: the operation is the organization's admins' (webhooks, DESIGN §10), and the
	// viewer is not one (FORBIDDEN).
	ErrAdminOnly = errors.New("only the organization's admins may do this")
	// ErrNotFound: the thing does not exist or the viewer cannot see it; the two are never told apart.
	ErrNotFound = errors.New("not found")
)

// Unavailable tells whether err means that the database could not do the work now, though it may
// a moment later (UNAVAILABLE: safe to retry): it cannot be reached, a lock or a statement ran
// past its timeout, or the operation's deadline passed.
func Unavailable(err error) bool { return store.Unavailable(err) }

func badInput(format string, args ...any) error { return model.BadInput(format, args...) }

// NotFoundError says what was not found, for the client.
type NotFoundError struct {
	What string
	ID   string
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s %s not found", e.What, e.ID) }

// Is makes errors.Is(err, ErrNotFound) hold.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

func notFound(what, id string) error { return &NotFoundError{What: what, ID: id} }

// notFoundAs replaces the store's not-found by err, and wraps anything else.
func notFoundAs(err, as error) error {
	if errors.Is(err, store.ErrNotFound) {
		return as
	}
	return err
}

// ConflictError refuses a conditional write (DESIGN §10): the task has changed since the version
// the client saw, and nothing changed. Version is the task's current one (CONFLICT).
type ConflictError struct {
	Task    model.TaskID
	Version string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("task %s has changed since the version given: its version is now %s", e.Task, e.Version)
}

// Reason says why a user cannot be assigned to a task (DESIGN §3).
type Reason string

// The reasons, in the order the rules are checked.
const (
	ReasonUserNotFound     Reason = "USER_NOT_FOUND"
	ReasonNotProjectMember Reason = "NOT_PROJECT_MEMBER"
	ReasonNotAgencyMember  Reason = "NOT_AGENCY_MEMBER"
	ReasonTooManyAssignees Reason = "TOO_MANY_ASSIGNEES"
)

// Violation is one offending user and the first rule it breaks; in a change of several tasks
// (assignUsersToTasks), on which task.
type Violation struct {
	UserID model.UserID
	Reason Reason
	// TaskID is the task a bulk change breaks the rule on; empty in a change of one task.
	TaskID model.TaskID
}

// ViolationError refuses a change as a whole, listing every offending user (UNPROCESSABLE).
type ViolationError struct {
	// Violations holds one entry per offending user (of a bulk change: per offending user and
	// task), sorted by task id, then by user id.
	Violations []Violation
}

// UserIDs lists the offending users, sorted and unique.
func (e *ViolationError) UserIDs() []model.UserID {
	ids := make([]model.UserID, len(e.Violations))
	for i, v := range e.Violations {
		ids[i] = v.UserID
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

func (e *ViolationError) Error() string {
	ids := make([]string, len(e.Violations))
	reasons := map[Reason]bool{}
	var tasks []string // "tsk_a: usr_x, usr_y", of a bulk change
	for i, v := range e.Violations {
		ids[i] = string(v.UserID)
		reasons[v.Reason] = true
		switch n := len(tasks); {
		case v.TaskID == "":
		case n > 0 && strings.HasPrefix(tasks[n-1], string(v.TaskID)+":"):
			tasks[n-1] += ", " + string(v.UserID)
		default:
			tasks = append(tasks, string(v.TaskID)+": "+string(v.UserID))
		}
	}
	tooMany := len(reasons) == 1 && reasons[ReasonTooManyAssignees]
	switch {
	case len(tasks) > 0 && tooMany:
		return "too many assignees: these users would pass the limit of these tasks: " + strings.Join(tasks, "; ")
	case len(tasks) > 0:
		return "these users cannot be assigned to these tasks: " + strings.Join(tasks, "; ")
	case tooMany:
		return "too many assignees: these users would pass the limit: " + strings.Join(ids, ", ")
	}
	return "these users cannot be assigned to the task: " + strings.Join(ids, ", ")
}

func sortViolations(vs []Violation) []Violation {
	slices.SortFunc(vs, func(a, b Violation) int {
		if c := strings.Compare(string(a.TaskID), string(b.TaskID)); c != 0 {
			return c
		}
		return strings.Compare(string(a.UserID), string(b.UserID))
	})
	return vs
}
