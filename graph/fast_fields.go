package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/model"
)

// The fields the fast path serves (graph/fast.go), type by type: a root field runs its resolver,
// any other only reads what that resolver returned. A field of the schema missing here makes its
// document run through gqlgen.

// queryValue stands for the Query object, which holds nothing itself.
type queryValue struct{}

var queryWriters = fields[queryValue]{
	"task": root("Task", taskImplementors, &taskWriters, true, (*executionContext).field_Query_task_args,
		func(q QueryResolver, ctx context.Context, args map[string]any) (*model.Task, error) {
			return q.Task(ctx, args["id"].(string))
		}),
	"tasks": root("TaskConnection", taskConnectionImplementors, &taskConnectionWriters, false, (*executionContext).field_Query_tasks_args,
		func(q QueryResolver, ctx context.Context, args map[string]any) (*TaskConnection, error) {
			return q.Tasks(ctx, args["filter"].(*model.TaskFilter), args["first"].(*int), args["after"].(*string))
		}),
	"viewer": root("User", userImplementors, &userWriters, true, nil,
		func(q QueryResolver, ctx context.Context, _ map[string]any) (*model.User, error) {
			return q.Viewer(ctx)
		}),
}

// root makes the maker of a root field whose value is an object of type T: args reads its
// arguments (nil when it has none), resolve runs its resolver, and nullable says whether a nil
// value is written as null. The resolver runs with the field context gqlgen gives it (the
// look-ahead reads its selections there).
func root[T any](typ string, satisfies []string, table *fields[T], nullable bool,
	args func(*executionContext, context.Context, map[string]any) (map[string]any, error),
	resolve func(q QueryResolver, ctx context.Context, args map[string]any) (*T, error),
) func(*compiler, graphql.CollectedField) (func(*out, *queryValue) error, bool) {
	return func(c *compiler, f graphql.CollectedField) (func(*out, *queryValue) error, bool) {
		obj, ok := compile(c, f.Selections, typ, satisfies, *table)
		if !ok {
			return nil, false
		}
		q := c.resolvers.Query()
		return func(o *out, _ *queryValue) error {
			var values map[string]any
			if args != nil {
				var err error
				if values, err = args(o.ec, o.ctx, f.ArgumentMap(o.ec.Variables)); err != nil {
					return err
				}
			}
			parent := o.ctx
			defer func() { o.ctx = parent }()
			o.ctx = graphql.WithFieldContext(parent, &graphql.FieldContext{
				Object: "Query", Field: f, Args: values, IsMethod: true, IsResolver: true,
			})
			v, err := resolve(q, o.ctx, values)
			return obj.value(o, v, err, nullable)
		}, true
	}
}

// leaf makes the maker of a field without a selection.
func leaf[T any](value func(o *out, v *T) error) func(*compiler, graphql.CollectedField) (func(*out, *T) error, bool) {
	return func(*compiler, graphql.CollectedField) (func(*out, *T) error, bool) { return value, true }
}

// plain is leaf for a value that cannot fail to write.
func plain[T any](value func(o *out, v *T)) func(*compiler, graphql.CollectedField) (func(*out, *T) error, bool) {
	return leaf(func(o *out, v *T) error { value(o, v); return nil })
}

// child makes the maker of a field whose value is an object of type C, read from its parent by
// get; nullable says whether a nil value is written as null or refused (gqlgen's error).
func child[T, C any](typ string, satisfies []string, table *fields[C], nullable bool, get func(*T) (*C, error)) func(*compiler, graphql.CollectedField) (func(*out, *T) error, bool) {
	return func(c *compiler, f graphql.CollectedField) (func(*out, *T) error, bool) {
		obj, ok := compile(c, f.Selections, typ, satisfies, *table)
		if !ok {
			return nil, false
		}
		return func(o *out, v *T) error {
			cv, err := get(v)
			return obj.value(o, cv, err, nullable)
		}, true
	}
}

// children makes the maker of a non-null list of non-null objects of type C.
func children[T, C any](typ string, satisfies []string, table *fields[C], get func(*T) ([]*C, error)) func(*compiler, graphql.CollectedField) (func(*out, *T) error, bool) {
	return func(c *compiler, f graphql.CollectedField) (func(*out, *T) error, bool) {
		obj, ok := compile(c, f.Selections, typ, satisfies, *table)
		if !ok {
			return nil, false
		}
		return func(o *out, v *T) error {
			items, err := get(v)
			if err != nil {
				return err
			}
			return list(o, items, obj)
		}, true
	}
}

// How each type's fields are written.
var taskConnectionWriters = fields[TaskConnection]{
	"edges": children("TaskEdge", taskEdgeImplementors, &taskEdgeWriters, func(c *TaskConnection) ([]*TaskEdge, error) {
		return c.Edges, nil
	}),
	"nodes": children("Task", taskImplementors, &taskWriters, func(c *TaskConnection) ([]*model.Task, error) {
		return c.Nodes(), nil
	}),
	"pageInfo": child("PageInfo", pageInfoImplementors, &pageInfoWriters, false, func(c *TaskConnection) (*model.PageInfo, error) {
		return c.PageInfo, nil
	}),
	"totalCount": leaf(func(o *out, c *TaskConnection) error {
		n, err := c.page.Count(o.ctx)
		o.int(n)
		return err
	}),
}

var taskEdgeWriters = fields[TaskEdge]{
	"cursor": plain(func(o *out, e *TaskEdge) { o.str(e.Cursor) }),
	"node": child("Task", taskImplementors, &taskWriters, false, func(e *TaskEdge) (*model.Task, error) {
		return e.Node, nil
	}),
}

var pageInfoWriters = fields[model.PageInfo]{
	"hasNextPage":     plain(func(o *out, p *model.PageInfo) { o.boolean(p.HasNextPage) }),
	"hasPreviousPage": plain(func(o *out, p *model.PageInfo) { o.boolean(p.HasPreviousPage) }),
	"startCursor":     plain(func(o *out, p *model.PageInfo) { o.optStr(p.StartCursor) }),
	"endCursor":       plain(func(o *out, p *model.PageInfo) { o.optStr(p.EndCursor) }),
}

var taskWriters = fields[model.Task]{
	"id":          plain(func(o *out, t *model.Task) { o.quoted(string(t.ID)) }),
	"label":       plain(func(o *out, t *model.Task) { o.str(t.Label) }),
	"description": plain(func(o *out, t *model.Task) { o.optStr(t.Description) }),
	"type":        plain(func(o *out, t *model.Task) { o.quoted(t.Type.String()) }),
	"status":      plain(func(o *out, t *model.Task) { o.quoted(t.Status.String()) }),
	"actionTaken": plain(func(o *out, t *model.Task) {
		if t.ActionTaken == nil {
			o.raw("null")
			return
		}
		o.quoted(t.ActionTaken.String())
	}),
	"closeReason":     plain(func(o *out, t *model.Task) { o.optStr(t.CloseReason) }),
	"errorReason":     plain(func(o *out, t *model.Task) { o.optStr(t.ErrorReason) }),
	"completedAction": plain(func(o *out, t *model.Task) { o.json(t.CompletedAction) }),
	"triggerEventId": plain(func(o *out, t *model.Task) {
		if t.TriggerEventID == nil {
			o.raw("null")
			return
		}
		o.quoted(string(*t.TriggerEventID))
	}),
	"phase":     child("Phase", phaseImplementors, &phaseWriters, false, (*model.Task).Phase),
	"assignees": children("User", userImplementors, &userWriters, (*model.Task).Assignees),
	"assignee": child("User", userImplementors, &userWriters, true, func(t *model.Task) (*model.User, error) {
		users, err := t.Assignees()
		return rules.Primary(users), err
	}),
	"assigneeId": leaf(func(o *out, t *model.Task) error {
		users, err := t.Assignees()
		if u := rules.Primary(users); u != nil {
			o.str(string(u.ID))
		} else {
			o.raw("null")
		}
		return err
	}),
	"createdAt":  leaf(func(o *out, t *model.Task) error { return o.time(t.CreatedAt) }),
	"modifiedAt": leaf(func(o *out, t *model.Task) error { return o.time(t.ModifiedAt) }),
	"version":    plain(func(o *out, t *model.Task) { o.str(t.Version()) }),
}

var phaseWriters = fields[model.Phase]{
	"id":       plain(func(o *out, p *model.Phase) { o.quoted(string(p.ID)) }),
	"name":     plain(func(o *out, p *model.Phase) { o.str(p.Name) }),
	"position": plain(func(o *out, p *model.Phase) { o.int(p.Position) }),
	"internal": plain(func(o *out, p *model.Phase) { o.boolean(p.Internal) }),
}

var userWriters = fields[model.User]{
	"id":                   plain(func(o *out, u *model.User) { o.quoted(string(u.ID)) }),
	"name":                 plain(func(o *out, u *model.User) { o.str(u.Name()) }),
	"firstName":            plain(func(o *out, u *model.User) { o.str(u.FirstName) }),
	"lastName":             plain(func(o *out, u *model.User) { o.str(u.LastName) }),
	"email":                plain(func(o *out, u *model.User) { o.str(u.Email) }),
	"avatar":               plain(func(o *out, u *model.User) { o.optStr(u.Avatar) }),
	"isOrgAdmin":           plain(func(o *out, u *model.User) { o.boolean(u.IsOrgAdmin) }),
	"isAccessApproved":     plain(func(o *out, u *model.User) { o.boolean(u.IsAccessApproved) }),
	"onboardingRequired":   plain(func(o *out, u *model.User) { o.boolean(u.OnboardingRequired) }),
	"defaultEmailSenderId": plain(func(o *out, u *model.User) { o.optStr(u.DefaultEmailSenderID) }),
	"createdAt":            leaf(func(o *out, u *model.User) error { return o.time(u.CreatedAt) }),
	"modifiedAt":           leaf(func(o *out, u *model.User) error { return o.time(u.ModifiedAt) }),
}
