package seed

import (
	"time"

	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

// defineTask makes the row of the world's task at index i, those of its data and those of its
// assignees.
func (c *checker) defineTask(i int, t Task) {
	id, ok := own(c, model.ParseTaskID, c.tasks, "tasks", i, t.ID)
	if !ok {
		return
	}
	owner := "task " + t.ID
	row := c.taskRow(id, owner, t)
	c.tasks[id] = row
	c.rows.tasks = append(c.rows.tasks, row)
	for j, d := range t.Data {
		c.defineTaskData(id, owner, j, d)
	}
	// Strictly increasing times keep the assignees in the order the world lists them.
	for _, u := range refs(c, owner, "assigneeIds", t.AssigneeIDs) {
		at := c.now.Add(time.Duration(len(c.rows.assignees)) * time.Microsecond)
		c.rows.assignees = append(c.rows.assignees, &store.TaskAssignee{TaskID: id, UserID: u, AssignedAt: at})
	}
}

// taskRow is the row of task t with its defaults: status OPEN, and an organization left empty
// for link to make it the project's. A type, status or action the schema does not know is
// reported.
func (c *checker) taskRow(id model.TaskID, owner string, t Task) *model.Task {
	c.required(owner, "label", t.Label)
	var org model.OrganizationID // when absent, link makes it the project's
	if t.OrganizationID != "" {
		org = ref(c, model.ParseOrganizationID, owner, "organizationId", t.OrganizationID)
	}
	status := model.TaskStatusOpen
	if t.Status != "" {
		status = model.TaskStatus(t.Status)
	}
	row := &model.Task{
		ID:              id,
		OrganizationID:  org,
		ProjectID:       ref(c, model.ParseProjectID, owner, "projectId", t.ProjectID),
		PhaseID:         ref(c, model.ParsePhaseID, owner, "phaseId", t.PhaseID),
		Label:           t.Label,
		Description:     t.Description,
		Type:            model.TaskType(t.Type),
		Status:          status,
		CloseReason:     t.CloseReason,
		ErrorReason:     t.ErrorReason,
		CompletedAction: t.CompletedAction,
		TriggerEventID:  optionalRef(c, model.ParseEventID, owner, "triggerEventId", t.TriggerEventID),
		CreatedAt:       c.now,
		ModifiedAt:      c.now,
	}
	if !row.Type.IsValid() {
		c.problem("%s: type %q is not one of %v", owner, t.Type, model.AllTaskType)
	}
	if !row.Status.IsValid() {
		c.problem("%s: status %q is not one of %v", owner, t.Status, model.AllTaskStatus)
	}
	if t.ActionTaken != nil {
		action := model.TaskAction(*t.ActionTaken)
		if !action.IsValid() {
			c.problem("%s: actionTaken %q is not one of %v", owner, *t.ActionTaken, model.AllTaskAction)
		}
		row.ActionTaken = &action
	}
	c.validJSON(owner, "completedAction", t.CompletedAction)
	return row
}

// defineTaskData makes the row of the entry at index j of a task's data, whose source and type
// default to their only values, EMAIL and RESPONSE.
func (c *checker) defineTaskData(task model.TaskID, owner string, j int, d TaskData) {
	id, ok := own(c, model.ParseTaskDataID, c.taskData, owner+": data", j, d.ID)
	if !ok {
		return
	}
	source, typ := model.TaskDataSourceEmail, model.TaskDataTypeResponse
	if d.Source != "" {
		source = model.TaskDataSource(d.Source)
	}
	if d.Type != "" {
		typ = model.TaskDataType(d.Type)
	}
	if !source.IsValid() {
		c.problem("%s: data %s: source %q is not one of %v", owner, d.ID, d.Source, model.AllTaskDataSource)
	}
	if !typ.IsValid() {
		c.problem("%s: data %s: type %q is not one of %v", owner, d.ID, d.Type, model.AllTaskDataType)
	}
	c.validJSON(owner+": data "+d.ID, "data", d.Data)
	row := &model.TaskData{
		ID: id, TaskID: task, Source: source, Type: typ, Data: d.Data,
		CreatedAt: c.now, ModifiedAt: c.now,
	}
	c.taskData[id] = row
	c.rows.taskData = append(c.rows.taskData, row)
}

// linkTask checks a task's references. Its project and phase must exist and the phase be one of
// the project's (DESIGN §1: every task is in a phase of its project); its organization, when
// given, must be the project's, and becomes it when not; its trigger event must be of that
// organization.
func (c *checker) linkTask(t *model.Task) {
	owner := "task " + string(t.ID)
	project := known(c, c.projects, owner, "project", t.ProjectID)
	if project != nil {
		if t.OrganizationID != "" && t.OrganizationID != project.OrganizationID {
			c.problem("%s: organization %s is not the organization %s of project %s", owner, t.OrganizationID, project.OrganizationID, project.ID)
		}
		t.OrganizationID = project.OrganizationID
	}
	if phase := known(c, c.phases, owner, "phase", t.PhaseID); phase != nil && project != nil && phase.ProjectID != project.ID {
		c.problem("%s: phase %s is not a phase of project %s", owner, phase.ID, project.ID)
	}
	if t.TriggerEventID != nil {
		event := known(c, c.events, owner, "trigger event", *t.TriggerEventID)
		if event != nil && t.OrganizationID != "" && event.OrganizationID != t.OrganizationID {
			c.problem("%s: trigger event %s is of organization %s, not %s", owner, event.ID, event.OrganizationID, t.OrganizationID)
		}
	}
}

// linkAssignee checks that a task's assignee exists and is of the task's organization.
func (c *checker) linkAssignee(a *store.TaskAssignee) {
	owner := "task " + string(a.TaskID)
	c.sameOrganization(owner, "assignee", known(c, c.users, owner, "assignee", a.UserID), c.tasks[a.TaskID].OrganizationID)
}
