package model

import (
	"errors"
	"time"
)

// Organization is the tenant: nothing ever crosses organizations (DESIGN §2).
type Organization struct {
	ID         OrganizationID `gorm:"primaryKey"`
	Name       string
	CreatedAt  time.Time
	ModifiedAt time.Time
}

// Company is the agency of an organization or one of its clients. A task in an internal phase
// takes only members of the agency company (DESIGN §3, rule 3).
type Company struct {
	ID             CompanyID `gorm:"primaryKey"`
	OrganizationID OrganizationID
	Name           string
	Kind           CompanyKind
	CreatedAt      time.Time
	ModifiedAt     time.Time
}

// User is a person of an organization, member of one company. The first seed document's
// given_name, family_name and profile_picture are FirstName, LastName and Avatar here.
type User struct {
	ID                    UserID `gorm:"primaryKey"`
	OrganizationID        OrganizationID
	CompanyID             CompanyID
	FirstName             string
	LastName              string
	Email                 string
	Avatar                *string
	IsOrgAdmin            bool
	IsAccessApproved      bool
	OnboardingRequired    bool
	InvitedByID           *UserID
	DefaultEmailSenderID  *string
	ThreadEmailsSortOrder SortOrder
	CreatedAt             time.Time
	ModifiedAt            time.Time
}

// Name is FirstName and LastName joined by a space (DESIGN §1).
func (u *User) Name() string { return u.FirstName + " " + u.LastName }

// DashboardSettings are the first seed document's dashboard_settings of a user.
func (u *User) DashboardSettings() *DashboardSettings {
	return &DashboardSettings{ThreadEmailsSortOrder: u.ThreadEmailsSortOrder}
}

// DashboardSettings holds a user's preferences for the dashboard.
type DashboardSettings struct {
	ThreadEmailsSortOrder SortOrder
}

// Project groups tasks; its members are the users that may be assigned to them (rule 2).
type Project struct {
	ID             ProjectID `gorm:"primaryKey"`
	OrganizationID OrganizationID
	Name           string
	CreatedAt      time.Time
	ModifiedAt     time.Time
}

// Phase is a stage of a project; an internal phase is agency-only work (rule 3).
type Phase struct {
	ID         PhaseID `gorm:"primaryKey"`
	ProjectID  ProjectID
	Name       string
	Position   int
	Internal   bool
	CreatedAt  time.Time
	ModifiedAt time.Time
}

// Task is a unit of work (a "step" in the second seed document), always in a phase of its project.
// Its assignees are rows of their own; Task.assignee is the first of them.
type Task struct {
	ID              TaskID `gorm:"primaryKey"`
	OrganizationID  OrganizationID
	ProjectID       ProjectID
	PhaseID         PhaseID
	Label           string
	Description     *string
	Type            TaskType
	Status          TaskStatus
	ActionTaken     *TaskAction
	CloseReason     *string
	ErrorReason     *string
	CompletedAction JSON
	TriggerEventID  *EventID
	CreatedAt       time.Time
	ModifiedAt      time.Time

	// related is what was read along with the task for a client: its phase and its assignees.
	related taskRelated
}

type taskRelated struct {
	phase        *Phase
	assignees    []*User
	hasAssignees bool
}

// ErrNotRead means that a task was asked for a relation that was not read along with it: a
// mistake of the code that read it, never of a client.
var ErrNotRead = errors.New("model: a relation of the task was asked for but not read along with it")

// Phase is the task's phase, read along with it.
func (t *Task) Phase() (*Phase, error) {
	if t.related.phase == nil {
		return nil, ErrNotRead
	}
	return t.related.phase, nil
}

// Assignees are the task's assignees in assignment order, read along with it.
func (t *Task) Assignees() ([]*User, error) {
	if !t.related.hasAssignees {
		return nil, ErrNotRead
	}
	return t.related.assignees, nil
}

// SetPhase records the task's phase, read along with it.
func (t *Task) SetPhase(p *Phase) { t.related.phase = p }

// SetAssignees records the task's assignees in assignment order, read along with it.
func (t *Task) SetAssignees(users []*User) { t.related.assignees, t.related.hasAssignees = users, true }

// TaskData is an entry of the first seed document's data[] of a task.
type TaskData struct {
	ID         TaskDataID `gorm:"primaryKey"`
	TaskID     TaskID
	Source     TaskDataSource
	Type       TaskDataType
	Data       JSON
	CreatedAt  time.Time
	ModifiedAt time.Time
}

// TableName keeps the table's name as written (GORM would pluralise it to "task_data").
func (TaskData) TableName() string { return "task_data" }

// Event is something that happened: a task's trigger_event, and the assignment history
// (DESIGN §3: one "task.assignees_changed" event per change that really changes the set).
type Event struct {
	ID             EventID `gorm:"primaryKey"`
	OrganizationID OrganizationID
	Name           string
	ActorID        *UserID
	Entity         string
	EntityID       string
	Message        *string
	Data           JSON
	Timestamp      time.Time
}

// EventAssigneesChanged is the name of the event recorded for every change of a task's assignees.
const EventAssigneesChanged = "task.assignees_changed"
