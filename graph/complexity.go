package graph

import (
	"math"

	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/model"
)

// complexity is DESIGN §7's cost model: every field costs 1, and a connection field costs 1 plus
// its page size (first, default 50) times what each of its items selects, so nested connections
// multiply. Lists without first (a task's assignees, a project's phases) are bounded by the data
// and count their items once (the webhooks, at most 10, as 10). gqlgen adds the rest: 1 for every other field plus its children.
func complexity() ComplexityRoot {
	var c ComplexityRoot
	c.Query.Tasks = func(child int, _ *model.TaskFilter, first *int, _ *string) int { return page(child, first) }
	c.Query.Users = func(child int, _ *model.UserFilter, first *int, _ *string) int { return page(child, first) }
	c.Query.Projects = func(child int, first *int, _ *string) int { return page(child, first) }
	c.Project.Members = func(child int, first *int, _ *string) int { return page(child, first) }
	c.Project.Tasks = func(child int, _ *model.TaskFilter, first *int, _ *string) int { return page(child, first) }
	c.Task.AssignableUsers = func(child int, _ *string, first *int, _ *string, _ *model.AssignableUserOrder) int {
		return page(child, first)
	}
	c.Task.Events = func(child int, first *int, _ *string) int { return page(child, first) }
	c.Mutation.AssignUsersToTasks = func(child int, taskIds []string, _ []string) int {
		// A list of tasks as long as taskIds, which the resolver refuses past its limit.
		n := min(len(taskIds), rules.MaxTaskIDs)
		return page(child, &n)
	}
	c.Webhook.Deliveries = func(child int, first *int, _ *string) int { return page(child, first) }
	// An organization holds at most rules.MaxWebhooks webhooks: the list counts as that many.
	c.Query.Webhooks = func(child int) int { return 1 + rules.MaxWebhooks*child }
	return c
}

// page is the complexity of a connection: 1 plus first times its child complexity. A first out
// of range counts as the largest page (the resolver refuses it before any work); the product
// saturates instead of overflowing.
func page(child int, first *int) int {
	n := rules.DefaultPageSize
	if first != nil {
		n = *first
	}
	if n < 1 || n > rules.MaxPageSize {
		n = rules.MaxPageSize
	}
	if child > (math.MaxInt32-1)/n {
		return math.MaxInt32
	}
	return 1 + n*child
}
