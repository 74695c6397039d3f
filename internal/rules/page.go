package rules

import (
	"context"
	"time"

	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

// DefaultPageSize is the page size when first is not given (DESIGN §4).
const DefaultPageSize = 50

// MaxPageSize is the largest page; a larger first is refused, never clamped.
const MaxPageSize = 100

// Position is a keyset position in a list: the id of the last item seen, and for lists ordered by
// time (events) its time. Cursors encode it.
type Position struct {
	ID   string
	Time time.Time
}

// PageArgs is a request for one page: at most First items after After.
type PageArgs struct {
	First *int
	After *Position
}

// Page is one page of a list.
type Page[T any] struct {
	Items       []*T
	HasNext     bool
	HasPrevious bool
	// Position is where each item stands, for its cursor.
	Position func(*T) Position
	count    func(context.Context) (int, error)
}

// Count counts the items of every page of the list, as the viewer sees them: a statement of its
// own, run only when asked (totalCount).
func (p *Page[T]) Count(ctx context.Context) (int, error) { return p.count(ctx) }

func storePage(a PageArgs) (store.Page, error) {
	first := DefaultPageSize
	if a.First != nil {
		first = *a.First
	}
	if first < 1 || first > MaxPageSize {
		return store.Page{}, badInput("first must be between 1 and %d, got %d", MaxPageSize, first)
	}
	p := store.Page{Limit: first}
	if a.After != nil {
		p.AfterID, p.AfterTime = a.After.ID, a.After.Time
	}
	return p, nil
}

func page[T any](l store.List[T], a PageArgs, pos func(*T) Position, count func(context.Context) (int, error)) *Page[T] {
	return &Page[T]{Items: l.Items, HasNext: l.HasNext, HasPrevious: a.After != nil, Position: pos, count: count}
}

// list reads one page of a list the viewer sees, and counts its items when asked.
func list[T any](s *Service, v *model.Viewer, a PageArgs, pos func(*T) Position,
	read func(store.Scope, store.Page) (store.List[T], error),
	count func(context.Context, store.Scope) (int, error)) (*Page[T], error) {
	sc, err := s.scope(v)
	if err != nil {
		return nil, err
	}
	p, err := storePage(a)
	if err != nil {
		return nil, err
	}
	l, err := read(sc, p)
	if err != nil {
		return nil, err
	}
	return page(l, a, pos, func(ctx context.Context) (int, error) { return count(ctx, sc) }), nil
}

func byID[T interface{ ~string }](id T) Position { return Position{ID: string(id)} }
