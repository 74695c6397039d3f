package rules

import (
	"errors"
	"testing"

	"github.com/taskql/taskql/model"
)

func TestPageSize(t *testing.T) {
	ptr := func(n int) *int { return &n }
	tests := []struct {
		name    string
		first   *int
		want    int
		refused bool
	}{
		{name: "first defaults to 50", first: nil, want: 50},
		{name: "first 1 is the smallest page", first: ptr(1), want: 1},
		{name: "first 100 is the largest page", first: ptr(100), want: 100},
		{name: "first 0 is bad input", first: ptr(0), refused: true},
		{name: "first 101 is bad input, never clamped", first: ptr(101), refused: true},
		{name: "a negative first is bad input", first: ptr(-1), refused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := storePage(PageArgs{First: tt.first})
			if tt.refused {
				if !errors.Is(err, model.ErrBadInput) {
					t.Errorf("storePage: err = %v, want bad input", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("storePage: %v", err)
			}
			if p.Limit != tt.want {
				t.Errorf("limit = %d, want %d", p.Limit, tt.want)
			}
		})
	}
}
