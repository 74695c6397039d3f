package model

import (
	"testing"
	"time"
)

// A version is VersionOf the task's modifiedAt; a microsecond apart is another version.
func TestVersion(t *testing.T) {
	at := time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)
	v := VersionOf(at)
	if v == "" {
		t.Fatal("VersionOf gave an empty version")
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
}
