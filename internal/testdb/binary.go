package testdb

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// bin is the module's command, built once per test process by Binary.
var bin struct {
	once      sync.Once
	dir, path string
	err       error
}

// Binary builds the module's command (go build -o <tmp>/taskql <module root>) on first use, within
// five minutes, and returns its path. Its directory is readable by every user, so that a test may
// run it as a user that cannot write the database. A package that calls it removes the build in
// its TestMain with RemoveBinary.
func Binary(t testing.TB) string {
	t.Helper()
	bin.once.Do(func() { bin.path, bin.err = build() })
	if bin.err != nil {
		t.Fatalf("build taskql: %v", bin.err)
	}
	return bin.path
}

// RemoveBinary removes what Binary built, if anything.
func RemoveBinary() {
	if bin.dir != "" {
		os.RemoveAll(bin.dir)
	}
}

func build() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(gomod)) == "" {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	if bin.dir, err = os.MkdirTemp("", "taskql-bin-"); err != nil {
		return "", err
	}
	if err := os.Chmod(bin.dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(bin.dir, "taskql")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", path, root).CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", root, err, out)
	}
	return path, nil
}

// Output is a process's output, written by the goroutine that copies it and read by the test
// meanwhile.
type Output struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// JSONLines are the lines of the output that are JSON objects whose msg is msg: a process's
// structured log lines of one kind.
func (o *Output) JSONLines(msg string) []map[string]any {
	var out []map[string]any
	for l := range strings.SplitSeq(o.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}
