package graph

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/model"
)

// Cursors are opaque to clients: base64url of a version, the kind of list the cursor was cut from,
// and a keyset position. A cursor given to a list of another kind is refused (DESIGN §4: it is not
// one of this list's). A new encoding takes a new version, and old cursors stay readable or are
// refused as malformed: v1 cursors, which named no kind, are refused.
const cursorVersion = "v2"

// cursorKind names the kind of list of the items T: the lists of one kind share their order.
func cursorKind[T any]() string {
	switch any((*T)(nil)).(type) {
	case *model.Task:
		return "task"
	case *model.User:
		return "user"
	case *model.Project:
		return "project"
	case *model.Event:
		return "event"
	case *model.WebhookDelivery:
		return "delivery"
	}
	panic("graph: no cursor kind for this list")
}

func encodeCursor(kind string, p rules.Position) string {
	s := cursorVersion + ":" + kind + ":" + p.ID
	if !p.Time.IsZero() {
		s += ":" + strconv.FormatInt(p.Time.UnixMicro(), 10)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

// decodeCursor reads the after of a list of kind: nil when there is none.
func decodeCursor(kind string, after *string) (*rules.Position, error) {
	if after == nil {
		return nil, nil
	}
	bad := model.BadInput("after is not a valid cursor")
	raw, err := base64.RawURLEncoding.DecodeString(*after)
	if err != nil {
		return nil, bad
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) < 3 || len(parts) > 4 || parts[0] != cursorVersion || parts[1] != kind {
		return nil, bad
	}
	if _, ok := model.PrefixOf(parts[2]); !ok {
		return nil, bad
	}
	p := &rules.Position{ID: parts[2]}
	if len(parts) == 4 {
		us, err := strconv.ParseInt(parts[3], 10, 64)
		if err != nil {
			return nil, bad
		}
		p.Time = time.UnixMicro(us).UTC()
		if y := p.Time.Year(); y < 1 || y > 9999 {
			return nil, bad // no stored time is outside these years, and the databases refuse them
		}
	}
	return p, nil
}

// Connection is a page of a keyset-paginated list as a Relay connection (DESIGN §4). Its
// totalCount is a resolver that asks the rules' page to count.
type Connection[T any] struct {
	Edges    []*Edge[T]
	PageInfo *model.PageInfo
	page     *rules.Page[T]
}

// Edge is one item of a connection page and the cursor just after it.
type Edge[T any] struct {
	Cursor string
	Node   *T
}

// Nodes lists the page's items without their cursors.
func (c *Connection[T]) Nodes() []*T {
	nodes := make([]*T, len(c.Edges))
	for i, e := range c.Edges {
		nodes[i] = e.Node
	}
	return nodes
}

// The connections of the schema.
type (
	TaskConnection    = Connection[model.Task]
	TaskEdge          = Edge[model.Task]
	UserConnection    = Connection[model.User]
	UserEdge          = Edge[model.User]
	ProjectConnection = Connection[model.Project]
	ProjectEdge       = Edge[model.Project]
	EventConnection   = Connection[model.Event]
	EventEdge         = Edge[model.Event]

	WebhookDeliveryConnection = Connection[model.WebhookDelivery]
	WebhookDeliveryEdge       = Edge[model.WebhookDelivery]
)

// paginate runs one page of a list of the rules as a connection: first and after translated
// (after must be a cursor of this kind of list), the page read, each item given its cursor.
func paginate[T any](first *int, after *string, read func(rules.PageArgs) (*rules.Page[T], error)) (*Connection[T], error) {
	return paginateAs(cursorKind[T](), first, after, read)
}

// paginateAs is paginate for a list of its own kind: the same items in another order, whose
// cursors no list of another order takes.
func paginateAs[T any](kind string, first *int, after *string, read func(rules.PageArgs) (*rules.Page[T], error)) (*Connection[T], error) {
	pos, err := decodeCursor(kind, after)
	if err != nil {
		return nil, err
	}
	p, err := read(rules.PageArgs{First: first, After: pos})
	if err != nil {
		return nil, err
	}
	c := &Connection[T]{
		Edges:    make([]*Edge[T], len(p.Items)),
		PageInfo: &model.PageInfo{HasNextPage: p.HasNext, HasPreviousPage: p.HasPrevious},
		page:     p,
	}
	for i, item := range p.Items {
		c.Edges[i] = &Edge[T]{Cursor: encodeCursor(kind, p.Position(item)), Node: item}
	}
	if n := len(c.Edges); n > 0 {
		c.PageInfo.StartCursor, c.PageInfo.EndCursor = &c.Edges[0].Cursor, &c.Edges[n-1].Cursor
	}
	return c, nil
}
