package graph

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/model"
)

// Cursors are opaque to clients: base64url of a version and a keyset position. A new encoding
// takes a new version, and old cursors stay readable or are refused as malformed.
const cursorVersion = "v1"

func encodeCursor(p rules.Position) string {
	s := cursorVersion + ":" + p.ID
	if !p.Time.IsZero() {
		s += ":" + strconv.FormatInt(p.Time.UnixMicro(), 10)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func decodeCursor(after *string) (*rules.Position, error) {
	if after == nil {
		return nil, nil
	}
	bad := &rules.InputError{Msg: "after is not a valid cursor"}
	raw, err := base64.RawURLEncoding.DecodeString(*after)
	if err != nil {
		return nil, bad
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] != cursorVersion {
		return nil, bad
	}
	if _, ok := model.PrefixOf(parts[1]); !ok {
		return nil, bad
	}
	p := &rules.Position{ID: parts[1]}
	if len(parts) == 3 {
		us, err := strconv.ParseInt(parts[2], 10, 64)
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

// pageArgs translates first/after.
func pageArgs(first *int, after *string) (rules.PageArgs, error) {
	pos, err := decodeCursor(after)
	return rules.PageArgs{First: first, After: pos}, err
}

// connection turns a page of the rules into a Relay connection.
func connection[T any](p *rules.Page[T], err error) (*model.Connection[T], error) {
	if err != nil {
		return nil, err
	}
	c := &model.Connection[T]{
		Edges:    make([]*model.Edge[T], len(p.Items)),
		PageInfo: &model.PageInfo{HasNextPage: p.HasNext, HasPreviousPage: p.HasPrevious},
		Count:    p.Count,
	}
	for i, item := range p.Items {
		c.Edges[i] = &model.Edge[T]{Cursor: encodeCursor(p.Position(item)), Node: item}
	}
	if n := len(c.Edges); n > 0 {
		c.PageInfo.StartCursor, c.PageInfo.EndCursor = &c.Edges[0].Cursor, &c.Edges[n-1].Cursor
	}
	return c, nil
}
