package rest

import (
	"strings"
	"time"

	"github.com/taskql/taskql/model"
)

// The objects of the two documents, as they write them: snake_case keys, every key present (null
// when it has no value, never missing), enums in lower case, times in RFC 3339 UTC. The fields
// are declared in the first document's order. They are views of the model, built after the rules
// answered; nothing here decides anything.

// taskObject is the first document's task, the answer of set-assignee.
type taskObject struct {
	Label           string               `json:"label"`
	Object          string               `json:"object"`
	OrganizationID  model.OrganizationID `json:"organization_id"`
	Type            string               `json:"type"`
	ID              model.TaskID         `json:"id"`
	ActionTaken     *string              `json:"action_taken"`
	Assignee        *userObject          `json:"assignee"`
	AssigneeID      *model.UserID        `json:"assignee_id"`
	CloseReason     *string              `json:"close_reason"`
	CompletedAction model.JSON           `json:"completed_action"`
	CreatedAt       utcTime              `json:"created_at"`
	Data            []taskDataObject     `json:"data"`
	Description     *string              `json:"description"`
	ErrorReason     *string              `json:"error_reason"`
	ModifiedAt      utcTime              `json:"modified_at"`
	Status          string               `json:"status"`
	TriggerEvent    *eventObject         `json:"trigger_event"`
	TriggerEventID  *model.EventID       `json:"trigger_event_id"`
}

// userObject is the first document's user: the task's assignee.
type userObject struct {
	Email                string               `json:"email"`
	FamilyName           string               `json:"family_name"`
	GivenName            string               `json:"given_name"`
	Object               string               `json:"object"`
	OrganizationID       model.OrganizationID `json:"organization_id"`
	ID                   model.UserID         `json:"id"`
	CreatedAt            utcTime              `json:"created_at"`
	DashboardSettings    dashboardSettings    `json:"dashboard_settings"`
	DefaultEmailSenderID *string              `json:"default_email_sender_id"`
	InvitedByUserID      *model.UserID        `json:"invited_by_user_id"`
	IsAccessApproved     bool                 `json:"is_access_approved"`
	IsOrgAdmin           bool                 `json:"is_org_admin"`
	ModifiedAt           utcTime              `json:"modified_at"`
	Name                 string               `json:"name"`
	OnboardingRequired   bool                 `json:"onboarding_required"`
	ProfilePicture       *string              `json:"profile_picture"`
	// Selected is an assignee picker's state in the document's client: the server holds none, so
	// it is always null (a key without a value, DESIGN §9).
	Selected *bool `json:"selected"`
}

// dashboardSettings is a user's dashboard_settings.
type dashboardSettings struct {
	ThreadEmailsSortOrder string `json:"thread_emails_sort_order"`
}

// taskDataObject is an entry of a task's data.
type taskDataObject struct {
	Object     string           `json:"object"`
	Source     string           `json:"source"`
	TaskID     model.TaskID     `json:"task_id"`
	Type       string           `json:"type"`
	ID         model.TaskDataID `json:"id"`
	CreatedAt  utcTime          `json:"created_at"`
	Data       model.JSON       `json:"data"`
	ModifiedAt utcTime          `json:"modified_at"`
}

// eventObject is a task's trigger_event. Events never change: created_at and modified_at are its
// timestamp.
type eventObject struct {
	Name       string        `json:"name"`
	Object     string        `json:"object"`
	ID         model.EventID `json:"id"`
	ActorID    *model.UserID `json:"actor_id"`
	CreatedAt  utcTime       `json:"created_at"`
	Data       model.JSON    `json:"data"`
	Entity     string        `json:"entity"`
	EntityID   string        `json:"entity_id"`
	Message    *string       `json:"message"`
	ModifiedAt utcTime       `json:"modified_at"`
	Timestamp  utcTime       `json:"timestamp"`
}

// assigneeObject is the second document's assignee. Its ids are this server's string ids where
// the document shows integers.
type assigneeObject struct {
	ID        model.UserID `json:"id"`
	Name      string       `json:"name"`
	FirstName string       `json:"first_name"`
	LastName  string       `json:"last_name"`
	Email     string       `json:"email"`
	Avatar    *string      `json:"avatar"`
}

// utcTime is written in RFC 3339 in UTC, to the microsecond as stored (the form GraphQL's Time
// has, so a client can compare the two).
type utcTime time.Time

// MarshalJSON writes the time in RFC 3339, UTC.
func (t utcTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format(time.RFC3339Nano) + `"`), nil
}

// lower is an enum of GraphQL's upper case as the documents write it.
func lower[T ~string](v T) string { return strings.ToLower(string(v)) }

// newTask renders a task, given its primary assignee (or nil), its data entries and its trigger
// event (nil when it has none the viewer can see).
func newTask(t *model.Task, primary *model.User, data []*model.TaskData, trigger *model.Event) *taskObject {
	o := &taskObject{
		Label: t.Label, Object: "task", OrganizationID: t.OrganizationID, Type: lower(t.Type), ID: t.ID,
		CloseReason: t.CloseReason, CompletedAction: t.CompletedAction, CreatedAt: utcTime(t.CreatedAt),
		Data: make([]taskDataObject, len(data)), Description: t.Description, ErrorReason: t.ErrorReason,
		ModifiedAt: utcTime(t.ModifiedAt), Status: lower(t.Status), TriggerEventID: t.TriggerEventID,
	}
	if t.ActionTaken != nil {
		a := lower(*t.ActionTaken)
		o.ActionTaken = &a
	}
	if primary != nil {
		o.Assignee, o.AssigneeID = newUser(primary), &primary.ID
	}
	for i, d := range data {
		o.Data[i] = taskDataObject{Object: "task_data", Source: lower(d.Source), TaskID: d.TaskID, Type: lower(d.Type),
			ID: d.ID, CreatedAt: utcTime(d.CreatedAt), Data: d.Data, ModifiedAt: utcTime(d.ModifiedAt)}
	}
	if trigger != nil {
		at := utcTime(trigger.Timestamp)
		o.TriggerEvent = &eventObject{Name: trigger.Name, Object: "event", ID: trigger.ID, ActorID: trigger.ActorID,
			CreatedAt: at, Data: trigger.Data, Entity: trigger.Entity, EntityID: trigger.EntityID,
			Message: trigger.Message, ModifiedAt: at, Timestamp: at}
	}
	return o
}

// newUser renders a user as the first document's user object.
func newUser(u *model.User) *userObject {
	return &userObject{
		Email: u.Email, FamilyName: u.LastName, GivenName: u.FirstName, Object: "user",
		OrganizationID: u.OrganizationID, ID: u.ID, CreatedAt: utcTime(u.CreatedAt),
		DashboardSettings:    dashboardSettings{ThreadEmailsSortOrder: lower(u.ThreadEmailsSortOrder)},
		DefaultEmailSenderID: u.DefaultEmailSenderID, InvitedByUserID: u.InvitedByID,
		IsAccessApproved: u.IsAccessApproved, IsOrgAdmin: u.IsOrgAdmin, ModifiedAt: utcTime(u.ModifiedAt),
		Name: u.Name(), OnboardingRequired: u.OnboardingRequired, ProfilePicture: u.Avatar,
	}
}

// newAssignees renders users as the second document's array of assignees, in their order.
func newAssignees(users []*model.User) []assigneeObject {
	out := make([]assigneeObject, len(users))
	for i, u := range users {
		out[i] = assigneeObject{ID: u.ID, Name: u.Name(), FirstName: u.FirstName, LastName: u.LastName,
			Email: u.Email, Avatar: u.Avatar}
	}
	return out
}
