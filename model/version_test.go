package model

import (
	"errors"
	"testing"
	"time"
)

// A version is what VersionOf writes and nothing else; a microsecond apart is another version.
func TestVersion(t *testing.T) {
	at := time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)
	v := VersionOf(at)
	if got, err := ParseVersion(v); err != nil || got != v {
		t.Fatalf("ParseVersion(%q) = %q, %v; want it back", v, got, err)
	}
	if next := VersionOf(at.Add(time.Microsecond)); next == v {
		t.Errorf("a microsecond later is the same version %q", v)
	}
	if same := VersionOf(at.Add(999 * time.Nanosecond)); same != v {
		t.Errorf("less than a microsecond later is another version %q, want %q (both databases keep microseconds)", same, v)
	}
	task := &Task{ModifiedAt: at}
	if task.Version() != v {
		t.Errorf("Task.Version() = %q, want VersionOf(modifiedAt) %q", task.Version(), v)
	}
	for _, bad := range []string{"", "ABC", "+1", " 1", "1 ", "-", "zzzzzzzzzzzzzzzz", "1.5", "0x1", "é"} {
		if _, err := ParseVersion(bad); !errors.Is(err, ErrBadInput) {
			t.Errorf("ParseVersion(%q) = %v, want bad input", bad, err)
		}
	}
}
