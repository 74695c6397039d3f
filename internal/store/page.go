package store

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// Page asks for at most Limit rows after a keyset position: after the row whose id is AfterID,
// or, for lists ordered by time, after (AfterTime, AfterID).
type Page struct {
	Limit     int
	AfterID   string
	AfterTime time.Time
}

// List is one page of rows and whether more follow.
type List[T any] struct {
	Items   []*T
	HasNext bool
}

// pageByID cuts a page from q ordered by the id column col.
func pageByID[T any](q *gorm.DB, col string, p Page) (List[T], error) {
	if p.AfterID != "" {
		q = q.Where(col+" > ?", p.AfterID)
	}
	return fetchPage[T](q.Order(col), p)
}

// fetchPage reads one row more than asked, to learn whether another page follows.
func fetchPage[T any](q *gorm.DB, p Page) (List[T], error) {
	var rows []*T
	if err := q.Limit(p.Limit + 1).Find(&rows).Error; err != nil {
		return List[T]{}, err
	}
	l := List[T]{Items: rows}
	if len(rows) > p.Limit {
		l.Items, l.HasNext = rows[:p.Limit], true
	}
	return l, nil
}

// count counts the rows of q, ignoring any order.
func count(ctx context.Context, q *gorm.DB) (int, error) {
	var n int64
	err := q.WithContext(ctx).Count(&n).Error
	return int(n), err
}
