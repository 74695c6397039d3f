package graph_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"

	"github.com/taskql/taskql/graph"
	"github.com/taskql/taskql/internal/testdb"
)

// Issue 16: the board at /app is served from files embedded in the binary, in development and in
// production, and loads nothing from anywhere else; in development mode it offers the demo tokens
// that authenticate, and only those. clients/app.mjs, run by ../app_browser_test.go, uses it in a
// real browser.

// moduleImports are the relative URLs an ES module imports (import … from './x.js', export … from).
var moduleImports = regexp.MustCompile(`(?m)^\s*(?:import|export)\b[^'"]*?\bfrom\s*'(\.{1,2}/[^']+)'`)

// boardSettings is the page's <meta name="taskql-app">.
type boardSettings struct {
	Endpoint   string `json:"endpoint"`
	DemoTokens []struct {
		Token string `json:"token"`
		Label string `json:"label"`
	} `json:"demoTokens"`
}

func boardPage(t *testing.T, a *api) (*response, boardSettings) {
	t.Helper()
	r := get(t, a, "/app")
	m := regexp.MustCompile(`<meta name="taskql-app" content="([^"]*)">`).FindSubmatch(r.Body)
	if r.Status != http.StatusOK || m == nil {
		t.Fatalf("GET /app: status %d, no settings in the page:\n%s", r.Status, r.Body)
	}
	var s boardSettings
	if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &s); err != nil {
		t.Fatalf("the page's settings %s: %v", m[1], err)
	}
	return r, s
}

func TestBoardServesEveryFileItsPageLoads(t *testing.T) {
	t.Parallel()
	st := testdb.SQLite(t)
	seedWorld(t, st)
	for _, production := range []bool{false, true} {
		a := serve(t, st, graph.Options{Production: production})
		page, settings := boardPage(t, a)
		if settings.Endpoint != "/query" {
			t.Errorf("production %v: the page's endpoint is %q, want /query", production, settings.Endpoint)
		}
		if page.Header.Get("Content-Type") != "text/html; charset=utf-8" || page.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET /app: Content-Type %q, Cache-Control %q; want text/html, no-store", page.Header.Get("Content-Type"), page.Header.Get("Cache-Control"))
		}
		csp := cspDirectives(page.Header.Get("Content-Security-Policy"))
		host := strings.TrimPrefix(a.srv.URL, "http://")
		for name, want := range map[string]string{
			"default-src":     "'self'",
			"script-src":      "'self'",
			"style-src":       "'self'",
			"connect-src":     "'self' ws://" + host + " wss://" + host,
			"object-src":      "'none'",
			"frame-ancestors": "'none'",
		} {
			if csp[name] != want {
				t.Errorf("GET /app: Content-Security-Policy %s is %q, want %q", name, csp[name], want)
			}
		}
		body := string(page.Body)
		for _, m := range scripts.FindAllStringSubmatch(body, -1) {
			if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
				t.Errorf("the page holds an inline script, which its policy would refuse: %.200s", m[0])
			}
		}
		if strings.Contains(body, " style=") {
			t.Errorf("the page holds a style attribute, which its policy would refuse")
		}

		// Every file the page names is served from here, and every module those import.
		served := map[string]int{}
		var fetch func(from, ref string)
		fetch = func(from, ref string) {
			u, err := url.Parse(html.UnescapeString(ref))
			if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/app/") {
				t.Errorf("%s names %q: not a file of the board on this server", from, ref)
				return
			}
			if _, ok := served[u.Path]; ok {
				return
			}
			r := get(t, a, u.RequestURI())
			served[u.Path] = len(r.Body)
			if r.Status != http.StatusOK || len(r.Body) == 0 || r.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("GET %s (named by %s): status %d, %d bytes, X-Content-Type-Options %q; want 200, the file, nosniff",
					u.RequestURI(), from, r.Status, len(r.Body), r.Header.Get("X-Content-Type-Options"))
				return
			}
			if !strings.HasSuffix(u.Path, ".js") {
				return
			}
			if ct := r.Header.Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
				t.Errorf("GET %s: Content-Type %q, want text/javascript (a module needs it)", u.Path, ct)
			}
			for _, m := range moduleImports.FindAllStringSubmatch(string(r.Body), -1) {
				fetch(u.Path, path.Join(path.Dir(u.Path), m[1]))
			}
		}
		for _, m := range pageRefs.FindAllStringSubmatch(body, -1) {
			if !strings.HasPrefix(m[1], "#") {
				fetch("the page", m[1])
			}
		}
		for _, want := range []string{"/app/app.js", "/app/api.js", "/app/picker.js", "/app/app.css", "/app/vendor/graphql-ws/client.js"} {
			if _, ok := served[want]; !ok {
				t.Errorf("production %v: %s is not loaded by the page or its modules (loaded: %v)", production, want, served)
			}
		}
		if production {
			total := 0
			for _, n := range served {
				total += n
			}
			t.Logf("the page loads %d files, %d bytes in all (before gzip)", len(served), total)
		}
		for _, bad := range []string{"/app/nothing.js", "/app/../web.go", "/app/vendor/graphql-ws/"} {
			if r := get(t, a, bad); r.Status != http.StatusNotFound {
				t.Errorf("GET %s: status %d, want 404", bad, r.Status)
			}
		}
	}
}

// Issue 16: the demo tokens are offered in development mode only, and only those that
// authenticate; production offers none, whatever it is given.
func TestBoardOffersTheDemoTokensOnlyInDevelopmentWhileTheyWork(t *testing.T) {
	t.Parallel()
	st := testdb.SQLite(t)
	seedWorld(t, st)
	demo := []graph.DemoToken{{Token: tokAdmin, Label: "the admin"}, {Token: "no-such-token", Label: "nobody"}}
	offered := func(a *api) string {
		_, s := boardPage(t, a)
		var out []string
		for _, d := range s.DemoTokens {
			out = append(out, d.Token+" "+d.Label)
		}
		return strings.Join(out, ", ")
	}
	dev := serve(t, st, graph.Options{DemoTokens: demo})
	if got, want := offered(dev), tokAdmin+" the admin"; got != want {
		t.Errorf("development offers %q, want %q (the token that authenticates)", got, want)
	}
	if got := offered(serve(t, st, graph.Options{DemoTokens: demo, Production: true})); got != "" {
		t.Errorf("production offers %q, want nothing", got)
	}
	if r := get(t, serve(t, st, graph.Options{DemoTokens: demo, Production: true}), "/app"); strings.Contains(string(r.Body), tokAdmin) {
		t.Errorf("production's page names the demo token")
	}
	if _, err := st.RevokeTokens(t.Context(), "usr_admin"); err != nil {
		t.Fatal(err)
	}
	if got := offered(dev); got != "" {
		t.Errorf("after the token was revoked development offers %q, want nothing", got)
	}
}

// The board's operations (the GraphQL documents of web/app/app.js) are valid against the schema as
// it is: a change of the schema that would break the board fails here, without a browser.
func TestBoardOperationsAreValid(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join("..", "web", "app", "app.js"))
	if err != nil {
		t.Fatal(err)
	}
	task := regexp.MustCompile(`(?m)^const TASK = '([^']+)';$`).FindSubmatch(src)
	if task == nil {
		t.Fatal("app.js declares no TASK fields")
	}
	docs := regexp.MustCompile("`((?:query|mutation|subscription) [^`]+)`").FindAllSubmatch(src, -1)
	schema := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{}}).Schema()
	kinds := map[string]int{}
	for _, d := range docs {
		doc := strings.ReplaceAll(string(d[1]), "${TASK}", string(task[1]))
		if _, errs := gqlparser.LoadQuery(schema, doc); errs != nil {
			t.Errorf("the board's operation is not valid: %v\n%s", errs, doc)
		}
		kinds[strings.Fields(doc)[0]]++
	}
	if kinds["query"] < 4 || kinds["mutation"] != 3 || kinds["subscription"] != 1 {
		t.Errorf("found %v operations in app.js; want its queries, the three mutations and the subscription", kinds)
	}
}
