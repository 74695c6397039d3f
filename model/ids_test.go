package model

import (
	"errors"
	"strings"
	"testing"
)

// Ids are a type prefix, "_", and 1–27 characters of [0-9A-Za-z], at most 32 in all (DESIGN §1).
func TestParseTaskID(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"a task id is a task id", "tsk_copy", true},
		{"digits and both cases are allowed", "tsk_01HZxY9", true},
		{"27 characters after the prefix are allowed", "tsk_" + strings.Repeat("a", 27), true},
		{"28 characters after the prefix are too many", "tsk_" + strings.Repeat("a", 28), false},
		{"an empty suffix is malformed", "tsk_", false},
		{"a user id is not a task id", "usr_ada", false},
		{"no prefix is malformed", "copy", false},
		{"punctuation is malformed", "tsk_co-py", false},
		{"a second underscore is malformed", "tsk_co_py", false},
		{"non-ASCII letters are malformed", "tsk_cöpy", false},
		{"the empty string is malformed", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := ParseTaskID(tt.in)
			if tt.ok && (err != nil || string(id) != tt.in) {
				t.Fatalf("ParseTaskID(%q) = %q, %v; want it back", tt.in, id, err)
			}
			if !tt.ok && !errors.Is(err, ErrBadInput) {
				t.Fatalf("ParseTaskID(%q) error = %v, want ErrBadInput", tt.in, err)
			}
		})
	}
}

// Generated ids are well formed and sort by creation time, which keyset pagination relies on.
func TestNewIDsAreWellFormedAndSortByCreation(t *testing.T) {
	prev := ""
	for range 1000 {
		id := NewID[EventID](PrefixEvent)
		if _, err := ParseEventID(string(id)); err != nil {
			t.Fatalf("NewID gave %q: %v", id, err)
		}
		if string(id) <= prev {
			t.Fatalf("%q does not sort after %q", id, prev)
		}
		prev = string(id)
	}
}

// The JSON scalar keeps a document as it is, and nil is null.
func TestJSONRoundTrip(t *testing.T) {
	var j JSON
	if err := j.UnmarshalJSON([]byte(`{"added":["usr_a"],"removed":[]}`)); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	j.MarshalGQL(&b)
	if got := b.String(); got != `{"added":["usr_a"],"removed":[]}` {
		t.Errorf("MarshalGQL = %s", got)
	}
	b.Reset()
	JSON(nil).MarshalGQL(&b)
	if b.String() != "null" {
		t.Errorf("nil JSON = %s, want null", b.String())
	}
}

// A document is written as given but for the spaces between its tokens; text that is not JSON is
// null, so that the response around it stays JSON.
func TestJSONIsWrittenCompact(t *testing.T) {
	for given, want := range map[string]string{
		"{\"b\": 1,\n  \"a\": [2, {\"z\": null, \"y\": \"\\u00e9 <x>\"}]}": `{"b":1,"a":[2,{"z":null,"y":"\u00e9 <x>"}]}`,
		` 3 `:        `3`,
		`{"a": `:     `null`,
		`not json`:   `null`,
		`"a  b"    `: `"a  b"`,
	} {
		var b strings.Builder
		JSON(given).MarshalGQL(&b)
		if b.String() != want {
			t.Errorf("%q written %s, want %s", given, b.String(), want)
		}
	}
}
