package rest

import (
	"context"
	"net/http"
	"strings"

	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/model"
)

// The four endpoints of DESIGN §9. Each parser reads the path and body (malformed: 400, before
// anything is looked up) and returns the call that runs one rules method and renders its answer.

// setAssigneeBody describes set-assignee's body in its errors.
const setAssigneeBody = `send {"assignee": "usr_…"} to assign that user, or {"assignee": null} to clear`

// setAssignee is POST /v1/tasks/{task_id}/set-assignee (the first document): the task's
// assignees become exactly the given user, or nobody for null; 200 with the whole task.
func (h *handler) setAssignee(r *http.Request) (call, error) {
	task, err := model.ParseTaskID(r.PathValue("task_id"))
	if err != nil {
		return nil, err
	}
	var body struct {
		Assignee *string `json:"assignee"`
	}
	if err := decodeJSON(r, &body, setAssigneeBody); err != nil {
		return nil, err
	}
	ifs := ifMatch(r)
	var assignee *model.UserID
	if body.Assignee != nil {
		id, err := model.ParseUserID(*body.Assignee)
		if err != nil {
			return nil, err
		}
		assignee = &id
	}
	return func(ctx context.Context, v *model.Viewer) (reply, error) {
		c, err := h.svc.SetTaskAssignee(ctx, v, task, assignee, ifs...)
		if err != nil {
			return reply{}, err
		}
		t, err := h.task(ctx, v, c)
		return reply{http.StatusOK, t, c.Task.Version()}, err
	}, nil
}

// task renders a task a mutation changed: its assignees come from the mutation's own reply; its
// data and trigger event, which a change of assignees leaves as they were, are read after it
// through the rules' batch reads, as GraphQL reads those fields.
func (h *handler) task(ctx context.Context, v *model.Viewer, c *rules.Changed) (*taskObject, error) {
	data, err := h.svc.TaskDataOf(ctx, v, []model.TaskID{c.Task.ID})
	if err != nil {
		return nil, err
	}
	var trigger *model.Event
	if id := c.Task.TriggerEventID; id != nil {
		events, err := h.svc.EventsByID(ctx, v, []model.EventID{*id})
		if err != nil {
			return nil, err
		}
		trigger = events[*id]
	}
	return newTask(c.Task, rules.Primary(c.Assignees), data[c.Task.ID], trigger), nil
}

// step parses the {step} of a path: a task id.
func step(r *http.Request) (model.TaskID, error) { return model.ParseTaskID(r.PathValue("step")) }

// listAssignees is GET /api/v1/steps/{step}/assignees: 200 with the task's assignees, in the
// order they were assigned.
func (h *handler) listAssignees(r *http.Request) (call, error) {
	task, err := step(r)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, v *model.Viewer) (reply, error) {
		t, users, err := h.svc.TaskAssignees(ctx, v, task)
		if err != nil {
			return reply{}, err
		}
		return reply{http.StatusOK, newAssignees(users), t.Version()}, nil
	}, nil
}

// assignUsersBody describes the body of POST …/assignees in its errors.
const assignUsersBody = `send {"user_ids": ["usr_…", …]}, 1 to 100 user ids; ids are strings, not integers`

// assignUsers is POST /api/v1/steps/{step}/assignees: adds the users and keeps those already
// assigned; 201 with the full updated list.
func (h *handler) assignUsers(r *http.Request) (call, error) {
	task, err := step(r)
	if err != nil {
		return nil, err
	}
	var body struct {
		UserIDs []string `json:"user_ids"`
	}
	if err := decodeJSON(r, &body, assignUsersBody); err != nil {
		return nil, err
	}
	if body.UserIDs == nil {
		return nil, model.BadInput("user_ids is required: %s", assignUsersBody)
	}
	users, err := model.ParseUserIDs(body.UserIDs)
	if err != nil {
		return nil, err
	}
	ifs := ifMatch(r)
	return func(ctx context.Context, v *model.Viewer) (reply, error) {
		c, err := h.svc.AssignUsers(ctx, v, task, users, ifs...)
		if err != nil {
			return reply{}, err
		}
		return reply{http.StatusCreated, newAssignees(c.Assignees), c.Task.Version()}, nil
	}, nil
}

// unassignUser is DELETE /api/v1/steps/{step}/assignees/{user}: removes the user; 204 whether
// or not it was assigned, 404 for a user that does not exist.
func (h *handler) unassignUser(r *http.Request) (call, error) {
	task, err := step(r)
	if err != nil {
		return nil, err
	}
	user, err := model.ParseUserID(r.PathValue("user"))
	if err != nil {
		return nil, err
	}
	ifs := ifMatch(r)
	return func(ctx context.Context, v *model.Viewer) (reply, error) {
		c, err := h.svc.UnassignUser(ctx, v, task, user, ifs...)
		if err != nil {
			return reply{}, err
		}
		return reply{status: http.StatusNoContent, etag: c.Task.Version()}, nil
	}, nil
}

// ifMatch reads the condition of a write from If-Match (DESIGN §10, RFC 9110 §13.1.1): none
// without the header or with "*"; else the write needs the task's version to be one of the
// header's strong entity tags, each the version an ETag gave. A weak tag never matches (If-Match
// compares strongly), nor does anything that is not an entity tag: when nothing can match, the
// write is refused as a conflict (412) with the current version, never applied.
func ifMatch(r *http.Request) []rules.Condition {
	values := r.Header.Values("If-Match")
	if len(values) == 0 {
		return nil
	}
	var versions []string
	for _, v := range values {
		for _, tag := range strings.Split(v, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" {
				return nil
			}
			if len(tag) >= 2 && tag[0] == '"' && tag[len(tag)-1] == '"' {
				versions = append(versions, tag[1:len(tag)-1])
			}
		}
	}
	return []rules.Condition{rules.IfVersion(versions...)}
}

// etag is the ETag of a task's version.
func etag(version string) string { return `"` + version + `"` }
