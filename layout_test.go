package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The imports go one way (STYLE.md): HTTP → adapter (graph) → rules → store → SQL, with the nouns
// (model) shared by all. layout is every package of the module with the module packages it may
// import; a package missing from it, or an import missing from its row, fails the test, and the
// message says why that arrow is not drawn. Tests (package x_test) may import more.
var layout = map[string][]string{
	// The command wires everything and holds no logic.
	".": {"graph", "internal/auth", "internal/guard", "internal/migrate", "internal/pubsub", "internal/rules", "internal/seed",
		"internal/store", "internal/telemetry", "internal/webhook", "model", "rest"},
	// The GraphQL adapter reaches data only through the rules.
	"graph": {"internal/auth", "internal/guard", "internal/rules", "internal/telemetry", "model", "web"},
	// The playground's files, embedded; no code of the module.
	"web": {},
	// The REST adapter, beside graph: it too reaches data only through the rules, and never
	// imports the GraphQL adapter (nor it the REST one).
	"rest": {"internal/auth", "internal/guard", "internal/rules", "internal/telemetry", "model"},
	// The rules know nothing of GraphQL or HTTP; they read and write through the store, and
	// publish committed changes on the bus.
	"internal/rules": {"internal/auth", "internal/pubsub", "internal/store", "internal/webhook", "model"},
	// The webhooks' outbox worker (DESIGN §10): reads and settles the outbox through the store,
	// signs and POSTs; the rules use its guard and secret check when a webhook is registered.
	"internal/webhook": {"internal/store", "model"},
	// The bus between processes decides nothing: it knows no other package of the module.
	"internal/pubsub": {},
	// The store speaks SQL and runs the migrations, whose dialect it shares.
	"internal/store":   {"internal/migrate", "model"},
	"internal/migrate": {},
	// The bearer token and its viewer, below the rules.
	"internal/auth": {"model"},
	// What every request passes before an adapter reads it: HTTP only.
	"internal/guard": {},
	// Logs, metrics and traces: set up by the command, fed by the adapters; it reads nothing.
	"internal/telemetry": {"internal/guard"},
	// Tests of faults (a PostgreSQL stopped, killed, locked) against the built server.
	"internal/faults": {"internal/testdb"},
	// Tests of several processes, pgbouncer and a replica (DESIGN §11) against the built server.
	"internal/scale": {"internal/testdb"},
	// Fixture files are written through the store, with hashed tokens.
	"internal/seed": {"internal/auth", "internal/store", "model"},
	// A fresh database per test.
	"internal/testdb": {"internal/migrate", "internal/store"},
	// The world the adapters' end-to-end tests start from.
	"internal/testworld": {"internal/auth", "internal/store", "model"},
	// The nouns: no I/O, no other package of the module.
	"model": {},
	// The benchmarks' tools.
	"bench/fixture":   {"internal/auth", "internal/store", "model"},
	"bench/gen":       {"internal/auth", "internal/store"},
	"bench/hostile":   {},
	"bench/layers":    {},
	"bench/realtime":  {},
	"bench/server":    {"graph", "internal/migrate", "internal/pubsub", "internal/rules", "internal/store", "internal/telemetry"},
	"bench/statement": {},
}

// confined are libraries that belong to some packages only, and why.
var confined = []struct {
	prefix string
	only   []string
	why    string
}{
	{"gorm.io/", []string{"internal/store", "internal/migrate"}, "GORM and SQL live in the store (and the migrations it runs)"},
	{"github.com/jackc/pgx", []string{"internal/store", "internal/pubsub", "bench/gen"}, "the database driver is the store's (and LISTEN's)"},
	{"github.com/glebarez/", []string{"internal/store"}, "the database driver is the store's"},
	{"github.com/99designs/gqlgen", []string{"graph"}, "GraphQL is the graph adapter's and nobody else's"},
	{"github.com/vektah/gqlparser", []string{"graph"}, "GraphQL is the graph adapter's and nobody else's"},
	{"github.com/getkin/kin-openapi", nil, "kin-openapi checks the REST adapter's responses against its document in tests; no code that serves needs it"},
	{"net/http", []string{".", "graph", "rest", "internal/auth", "internal/guard", "internal/telemetry", "internal/webhook", "internal/faults", "internal/scale",
		"bench/hostile", "bench/server", "bench/realtime"},
		"the rules, the store and the nouns know nothing of HTTP"},
}

const module = "github.com/taskql/taskql"

func TestImportsGoOneWay(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := relative(fields[0])
		seen[pkg] = true
		allowed, ok := layout[pkg]
		if !ok {
			t.Errorf("package %s is not in the layout table of layout_test.go: add it with the packages it may import", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			if strings.HasPrefix(imp, module) && !slices.Contains(allowed, relative(imp)) {
				t.Errorf("%s imports %s, which its row of the layout table does not allow", pkg, relative(imp))
			}
			for _, c := range confined {
				if strings.HasPrefix(imp, c.prefix) && !slices.Contains(c.only, pkg) {
					t.Errorf("%s imports %s: %s", pkg, imp, c.why)
				}
			}
		}
	}
	for pkg := range layout {
		if !seen[pkg] {
			t.Errorf("the layout table names %s, which is not a package of the module", pkg)
		}
	}
}

// relative names a package of the module by its directory ("." for the root).
func relative(path string) string {
	if path == module {
		return "."
	}
	return strings.TrimPrefix(path, module+"/")
}
