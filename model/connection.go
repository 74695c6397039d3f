package model

import "context"

// PageInfo is the Relay page information of a connection (DESIGN §4).
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string
	EndCursor       *string
}

// Counter counts every item of a connection, on every page; it runs only when totalCount is
// selected.
type Counter func(ctx context.Context) (int, error)

// Edge is one item of a connection page and the cursor just after it.
type Edge[T any] struct {
	Cursor string
	Node   *T
}

// Connection is a page of a keyset-paginated list (DESIGN §4).
type Connection[T any] struct {
	Edges    []*Edge[T]
	PageInfo *PageInfo
	Count    Counter
}

// Nodes lists the page's items without their cursors.
func (c *Connection[T]) Nodes() []*T {
	nodes := make([]*T, len(c.Edges))
	for i, e := range c.Edges {
		nodes[i] = e.Node
	}
	return nodes
}

// TotalCount counts the items of every page.
func (c *Connection[T]) TotalCount(ctx context.Context) (int, error) { return c.Count(ctx) }

// The connections of the schema.
type (
	TaskConnection    = Connection[Task]
	TaskEdge          = Edge[Task]
	UserConnection    = Connection[User]
	UserEdge          = Edge[User]
	ProjectConnection = Connection[Project]
	ProjectEdge       = Edge[Project]
	EventConnection   = Connection[Event]
	EventEdge         = Edge[Event]
)
