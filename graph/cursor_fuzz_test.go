package graph

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/model"
)

// FuzzDecodeCursor holds DESIGN §4's "a malformed cursor is BAD_USER_INPUT" for any string a
// client sends as after: decodeCursor never panics; it fails only with a *model.InputError; a
// cursor it accepts is a position the stores can seek to, a well-formed id and a time (when there
// is one) within the years 1–9999, which encodes to a cursor that decodes to the same position;
// and a cursor of a list of one kind is never accepted by a list of another.
//
// The second property runs on each input too: any position of a well-formed id and a time in
// those years, to the microsecond (what the databases store, and what a cursor keeps), decodes
// from its own cursor unchanged.
//
//	go test -run '^$' -fuzz '^FuzzDecodeCursor$' -fuzztime 20s ./graph
func FuzzDecodeCursor(f *testing.F) {
	raw := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, seed := range []struct {
		after  string
		suffix string
		us     int64
	}{
		{encodeCursor("task", rules.Position{ID: "tsk_01plan"}), "01plan", 0},
		{encodeCursor("task", rules.Position{ID: "usr_ada", Time: time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)}), "ada", 1704164645123456},
		{encodeCursor("user", rules.Position{ID: "usr_ada"}), "ada", 0}, // a users cursor given to tasks
		{raw("v2:task:tsk_x:253402300799999999"), "x", 253402300799999999},
		{raw("v2:task:tsk_x:253402300800000000"), "x", 253402300800000000},
		{raw("v2:user:tsk_x"), "x", 1},
		{raw("v1:tsk_x:-62135596800000000"), "x", -62135596800000000},                     // 0001-01-01: the zero time
		{raw("v1:tsk_x:253402300799999999"), strings.Repeat("z", 27), 253402300799999999}, // the last microsecond of 9999
		{raw("v1:tsk_x:253402300800000000"), "y", 253402300800000000},                     // 10000-01-01
		{raw("v1:tsk_x:-62135596800000001"), "y", -62135596800000001},                     // before year 1
		{raw("v1:tsk_x:+007"), "Z9", 7},
		{raw("v1:tsk_x:9223372036854775807"), "Z9", 9223372036854775807},
		{raw("v1:tsk_x:-9223372036854775808"), "Z9", -9223372036854775808},
		{raw("v2:tsk_x"), "a", 1},
		{raw("v1:tsk_:1"), "", 1},
		{raw("v1:tsk_x:1:2"), "a", 1},
		{raw("v1:x_" + strings.Repeat("a", 28)), "a", 1},
		{"djE6dHNrXzAxcGxhbg==", "a", 1}, // padded
		{"djE6dHNrXzAxcGxhbh", "a", 1},   // non-zero trailing bits
		{"not a cursor!", "a", 1},
		{"", "", 0},
	} {
		f.Add(seed.after, seed.suffix, seed.us)
	}
	f.Fuzz(func(t *testing.T, after, suffix string, us int64) {
		p, err := decodeCursor("task", &after)
		if err != nil {
			var in *model.InputError
			if !errors.As(err, &in) || !errors.Is(err, model.ErrBadInput) {
				t.Errorf("decodeCursor(%q) failed with %T %v, want a *model.InputError (BAD_USER_INPUT)", after, err, err)
			}
			if p != nil {
				t.Errorf("decodeCursor(%q) = %+v with an error", after, *p)
			}
		} else {
			if p == nil {
				t.Fatalf("decodeCursor(%q) = nil without an error", after)
			}
			if _, ok := model.PrefixOf(p.ID); !ok {
				t.Errorf("decodeCursor(%q) has id %q, which is not well formed", after, p.ID)
			}
			if y := p.Time.Year(); !p.Time.IsZero() && (y < 1 || y > 9999) {
				t.Errorf("decodeCursor(%q) has time %v, outside the years 1–9999", after, p.Time)
			}
			roundTrip(t, *p)
		}

		// The second property: a position made of a well-formed id and a time in range.
		id := "tsk_" + alphanumeric(suffix)
		if len(id) == len("tsk_") {
			id += "0"
		}
		roundTrip(t, rules.Position{ID: id, Time: time.UnixMicro(inRange(us)).UTC()})
	})
}

// roundTrip asserts that a position decodes from its own cursor unchanged, and that the cursor
// is refused by a list of another kind.
func roundTrip(t *testing.T, p rules.Position) {
	t.Helper()
	c := encodeCursor("task", p)
	got, err := decodeCursor("task", &c)
	if err != nil {
		t.Fatalf("the cursor %q of %+v does not decode: %v", c, p, err)
	}
	if *got != p {
		t.Errorf("the cursor %q of %+v decodes to %+v", c, p, *got)
	}
	if _, err := decodeCursor("user", &c); !errors.Is(err, model.ErrBadInput) {
		t.Errorf("the tasks cursor %q was accepted by a list of users: %v", c, err)
	}
}

// The first and the last microsecond of the years 1–9999.
var (
	firstMicro = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	lastMicro  = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC).UnixMicro()
)

// inRange maps any int64 onto the microseconds of the years 1–9999.
func inRange(us int64) int64 {
	n := uint64(lastMicro - firstMicro + 1)
	return firstMicro + int64(uint64(us)%n)
}

// alphanumeric keeps at most 27 of the characters an id's suffix may hold.
func alphanumeric(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if b.Len() < 27 && ('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			b.WriteByte(c)
		}
	}
	return b.String()
}
