package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// DESIGN §7 in a real browser: the playground works with no network. clients/playground.mjs
// drives Debian's Chromium (playwright-core) through the playground of the built binary, serving
// the demo world from a fresh SQLite database: the Docs pane shows the schema, a query, a
// mutation and a subscription show their results, and the page asks nothing of any other host.
// The helpers (buildTaskql, startTaskql, …) are realtime_clients_test.go's.

// browserTimeout bounds the Node script, which bounds itself by 90 s.
const browserTimeout = 2 * time.Minute

func TestPlaygroundWorksInABrowser(t *testing.T) {
	node, chromium := requireBrowser(t)
	started := time.Now()
	bin := buildTaskql(t)
	t.Logf("built %s in %s", bin, time.Since(started).Round(time.Millisecond))

	p := startTaskql(t, bin, "sqlite:"+filepath.Join(t.TempDir(), "playground.db"))
	base := p.waitForURL(t)
	if p.printed("loaded the demo world") == "" {
		t.Fatalf("serve did not load the demo world; it printed:\n%s", strings.Join(p.lines(), "\n"))
	}

	ctx, cancel := context.WithTimeout(t.Context(), browserTimeout)
	defer cancel()
	script := filepath.Join("clients", "playground.mjs")
	shot := filepath.Join("clients", "artifacts", "playground.png")
	cmd := exec.CommandContext(ctx, node, script, base, "--chromium", chromium, "--screenshot", shot)
	cmd.Env = withoutTaskqlEnv(os.Environ())
	cmd.WaitDelay = 5 * time.Second
	browserStart := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (killed after %s)", err, browserTimeout)
		}
		t.Fatalf("node %s %s: %v\nits output:\n%s\nthe server's log:\n%s", script, base, err, out, p.stderr.String())
	}
	t.Logf("node %s passed in %s:", script, time.Since(browserStart).Round(time.Millisecond))
	for line := range strings.Lines(string(out)) {
		t.Log("  " + strings.TrimRight(line, "\n"))
	}
	p.stop(t)
	t.Logf("in all %s, the build included; the screenshot is %s", time.Since(started).Round(time.Millisecond), shot)
}

// requireBrowser returns the paths of node and of Chromium (CHROMIUM, else /usr/bin/chromium),
// and makes sure clients/node_modules holds playwright-core. Without them the test skips, loudly,
// or fails when CI=true (CI installs Chromium and runs npm ci first).
func requireBrowser(t *testing.T) (node, chromium string) {
	t.Helper()
	missing := func(what string) {
		t.Helper()
		msg := fmt.Sprintf("%s: install Chromium (`apt-get install -y chromium`) and run `npm ci --prefix clients` (Node 20 or later) before the Go tests", what)
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (CI=true)", msg)
		}
		t.Skipf("\n*** SKIPPED: %s.\n*** This test drives the playground in Chromium; CI=true makes this a failure.", msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not on the PATH")
	}
	if _, err := os.Stat(filepath.Join("clients", "node_modules", "playwright-core", "package.json")); err != nil {
		missing("clients/node_modules/playwright-core is missing")
	}
	chromium = os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		missing(fmt.Sprintf("no Chromium at %s", chromium))
	}
	return node, chromium
}
