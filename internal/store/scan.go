package store

import (
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/taskql/taskql/model"
)

// The hot reads (a page of tasks with their phases and assignees, a task with its assignees)
// scan their rows by hand: GORM finds a row's fields by reflection, column by column, which cost
// a page of 50 tasks more CPU than the database spent answering it (docs/PERFORMANCE.md). Each
// entity has its columns, in order, and the destinations of one row, in the same order; a test
// holds them to what GORM reads.

// taskColumns are the columns of a task, in the order of taskDest.
var taskColumns = []string{"id", "organization_id", "project_id", "phase_id", "label", "description", "type", "status",
	"action_taken", "close_reason", "error_reason", "completed_action", "trigger_event_id", "created_at", "modified_at"}

func taskDest(t *model.Task) []any {
	return []any{(*string)(&t.ID), (*string)(&t.OrganizationID), (*string)(&t.ProjectID), (*string)(&t.PhaseID),
		&t.Label, &t.Description, (*string)(&t.Type), (*string)(&t.Status),
		&t.ActionTaken, &t.CloseReason, &t.ErrorReason, &t.CompletedAction, &t.TriggerEventID, &t.CreatedAt, &t.ModifiedAt}
}

// phaseColumns are the columns of a phase, in the order of phaseDest.
var phaseColumns = []string{"id", "project_id", "name", "position", "internal", "created_at", "modified_at"}

func phaseDest(p *model.Phase) []any {
	return []any{(*string)(&p.ID), (*string)(&p.ProjectID), &p.Name, intDest{&p.Position}, &p.Internal, &p.CreatedAt, &p.ModifiedAt}
}

// userColumns are the columns of a user, in the order of userDest.
var userColumns = []string{"id", "organization_id", "company_id", "first_name", "last_name", "email", "avatar",
	"is_org_admin", "is_access_approved", "onboarding_required", "invited_by_id", "default_email_sender_id",
	"thread_emails_sort_order", "created_at", "modified_at"}

func userDest(u *model.User) []any {
	return []any{(*string)(&u.ID), (*string)(&u.OrganizationID), (*string)(&u.CompanyID), &u.FirstName, &u.LastName, &u.Email, &u.Avatar,
		&u.IsOrgAdmin, &u.IsAccessApproved, &u.OnboardingRequired, &u.InvitedByID, &u.DefaultEmailSenderID,
		(*string)(&u.ThreadEmailsSortOrder), &u.CreatedAt, &u.ModifiedAt}
}

// The columns of a lean read (With.Lean): a task's keys and the fields a list shows, and an
// assignee's keys, name and email. The other columns (a task's description, reasons, completed
// action; a user's avatar, flags, settings) are what lean leaves out, and their fields zero.
var (
	leanTaskColumns = []string{"id", "organization_id", "project_id", "phase_id", "label", "type", "status", "created_at", "modified_at"}
	leanUserColumns = []string{"id", "organization_id", "company_id", "first_name", "last_name", "email"}
)

// pick is the destinations of the columns want, out of every column of an entity and theirs.
func pick(columns []string, dest []any, want []string) []any {
	out := make([]any, len(want))
	for i, c := range want {
		out[i] = dest[slices.Index(columns, c)]
	}
	return out
}

// The select lists of the hot reads, made once.
var (
	taskSelect         = columnsOf("tasks", "", taskColumns)
	leanTaskSelect     = columnsOf("tasks", "", leanTaskColumns)
	phaseSelect        = columnsOf("ph", "ph_", phaseColumns)
	assigneeSelect     = columnsOf("u", "u_", userColumns)
	leanAssigneeSelect = columnsOf("u", "u_", leanUserColumns)
	userSelect         = columnsOf("users", "", userColumns)
)

// columnsOf lists columns of the table alias as a SELECT list, each named prefix_column.
func columnsOf(alias, prefix string, columns []string) string {
	var b strings.Builder
	for i, c := range columns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s.%s AS %s%s", alias, c, prefix, c)
	}
	return b.String()
}

// intDest scans an integer column into an int without database/sql's detour through text.
type intDest struct{ p *int }

func (d intDest) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		*d.p = int(v)
	case int32:
		*d.p = int(v)
	default:
		return fmt.Errorf("scan %T into int", src)
	}
	return nil
}

// nullUser holds the columns of a user as an outer join gives them: all NULL when it found none.
// Its text and times are pgx's types, which pgx scans without a detour through database/sql's
// Scanner (readNative) and which are Scanners too; SQLite gives its booleans as integers, which
// only database/sql's own type takes.
type nullUser struct {
	id, organization, company, first, last, email, avatar, invitedBy, sender, sortOrder pgtype.Text
	admin, approved, onboarding                                                         sql.NullBool
	created, modified                                                                   pgtype.Timestamptz
}

// dest is the destinations of userColumns, in order.
func (n *nullUser) dest() []any {
	return []any{&n.id, &n.organization, &n.company, &n.first, &n.last, &n.email, &n.avatar,
		&n.admin, &n.approved, &n.onboarding, &n.invitedBy, &n.sender, &n.sortOrder, &n.created, &n.modified}
}

// user is the user read, or nil when there was none; it shares nothing with n, which the next row
// reuses.
func (n *nullUser) user() *model.User {
	if !n.id.Valid {
		return nil
	}
	u := &model.User{ID: model.UserID(n.id.String), OrganizationID: model.OrganizationID(n.organization.String),
		CompanyID: model.CompanyID(n.company.String), FirstName: n.first.String, LastName: n.last.String, Email: n.email.String,
		IsOrgAdmin: n.admin.Bool, IsAccessApproved: n.approved.Bool, OnboardingRequired: n.onboarding.Bool,
		ThreadEmailsSortOrder: model.SortOrder(n.sortOrder.String), CreatedAt: n.created.Time, ModifiedAt: n.modified.Time}
	if n.avatar.Valid {
		avatar := n.avatar.String
		u.Avatar = &avatar
	}
	if n.invitedBy.Valid {
		id := model.UserID(n.invitedBy.String)
		u.InvitedByID = &id
	}
	if n.sender.Valid {
		sender := n.sender.String
		u.DefaultEmailSenderID = &sender
	}
	return u
}
