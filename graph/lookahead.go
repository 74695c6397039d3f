package graph

import (
	"context"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/taskql/taskql/internal/rules"
)

// Look-ahead: a field that returns tasks reads, with them, the relations its selection shows for
// each task (rules.Relations), and the loaders learn them. Task.phase and Task.assignees then
// find what they need at once: a page of tasks with their phases and assignees is two statements
// and no wait for a batch, instead of three statements, one after the other.

// taskFields are the fields of Task whose values come from each relation.
var (
	phaseFields    = []string{"phase"}
	assigneeFields = []string{"assignees", "assignee", "assigneeId"}
)

// taskRelations is what the selection of the field being resolved, a Task, shows of it.
func taskRelations(ctx context.Context) rules.Relations {
	var r rules.Relations
	oc := graphql.GetOperationContext(ctx)
	addTaskRelations(&r, oc, graphql.GetFieldContext(ctx).Field.Selections)
	return r
}

// connectionRelations is what the selection of the field being resolved, a TaskConnection, shows
// of each of its tasks, through nodes or edges.
func connectionRelations(ctx context.Context) rules.Relations {
	var r rules.Relations
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
	}
}

// learn primes the loaders with relations read along with tasks. What a loader already holds
// stays: one request shows one state of a task.
func (l *loaders) learn(r rules.Related) {
	for id, p := range r.Phases {
		l.phases.Prime(id, p)
	}
	for id, users := range r.Assignees {
		l.assignees.Prime(id, users)
	}
}
