package graph

import (
	"context"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/model"
)

// Look-ahead: a field that returns tasks reads, with them and in the same statement, the relations
// its selection shows for each task (rules.Relations), which each task then carries: Task.phase and
// Task.assignees are plain fields (model.Task.Phase, Assignees), with no resolver, no goroutine and
// no loader. A page of tasks with their phases and assignees is one statement.

// taskFields are the fields of Task whose values come from each relation.
var (
	phaseFields    = []string{"phase"}
	assigneeFields = []string{"assignees", "assignee", "assigneeId"}
)

// A selection made only of these fields is read lean (rules.Relations.Lean): only the columns
// they need are read, the tasks' and assignees' other fields are left zero. Each field here is a
// lean column, a relation read along, or a resolver that needs only the object's keys; a field
// added to Task or User is not lean until it is added here (TestLeanReadsShowWhatEveryColumnShows).
var (
	leanTaskFields = []string{"__typename", "id", "label", "type", "status", "createdAt", "modifiedAt", "version",
		"organization", "project", "phase", "assignee", "assigneeId", "assignees"}
	// leanUserFields are those of the users under a task's assignee and assignees.
	leanUserFields = []string{"__typename", "id", "name", "firstName", "lastName", "email", "organization", "company"}
)

// taskRelations is what the selection of the field being resolved, a Task, shows of it.
func taskRelations(ctx context.Context) rules.Relations {
	r := rules.Relations{Lean: true}
	oc := graphql.GetOperationContext(ctx)
	addTaskRelations(&r, oc, graphql.GetFieldContext(ctx).Field.Selections)
	return r
}

// connectionRelations is what the selection of the field being resolved, a TaskConnection, shows
// of each of its tasks, through nodes or edges.
func connectionRelations(ctx context.Context) rules.Relations {
	r := rules.Relations{Lean: true}
	oc := graphql.GetOperationContext(ctx)
	for _, f := range graphql.CollectFields(oc, graphql.GetFieldContext(ctx).Field.Selections, taskConnectionImplementors) {
		switch f.Name {
		case "nodes":
			addTaskRelations(&r, oc, f.Selections)
		case "edges":
			for _, e := range graphql.CollectFields(oc, f.Selections, taskEdgeImplementors) {
				if e.Name == "node" {
					addTaskRelations(&r, oc, e.Selections)
				}
			}
		}
	}
	return r
}

func addTaskRelations(r *rules.Relations, oc *graphql.OperationContext, sel ast.SelectionSet) {
	for _, f := range graphql.CollectFields(oc, sel, taskImplementors) {
		r.Phase = r.Phase || slices.Contains(phaseFields, f.Name)
		r.Assignees = r.Assignees || slices.Contains(assigneeFields, f.Name)
		r.Lean = r.Lean && slices.Contains(leanTaskFields, f.Name) &&
			(f.Name != "assignee" && f.Name != "assignees" || leanUsers(oc, f.Selections))
	}
}

// leanUsers tells whether a selection of User shows only lean fields.
func leanUsers(oc *graphql.OperationContext, sel ast.SelectionSet) bool {
	for _, f := range graphql.CollectFields(oc, sel, userImplementors) {
		if !slices.Contains(leanUserFields, f.Name) {
			return false
		}
	}
	return true
}

// primaryAssignees are the tasks' primary assignees (rules.Primary), from the assignees each was
// read with.
func primaryAssignees(tasks []*model.Task) ([]*model.User, error) {
	primary := make([]*model.User, len(tasks))
	for i, t := range tasks {
		users, err := t.Assignees()
		if err != nil {
			return nil, err
		}
		primary[i] = rules.Primary(users)
	}
	return primary, nil
}

// primaryAssigneeIDs are the ids of the tasks' primary assignees, nil for a task without one.
func primaryAssigneeIDs(tasks []*model.Task) ([]*string, error) {
	users, err := primaryAssignees(tasks)
	if err != nil {
		return nil, err
	}
	ids := make([]*string, len(users))
	for i, u := range users {
		if u != nil {
			id := string(u.ID)
			ids[i] = &id
		}
	}
	return ids, nil
}
