package graph_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/taskql/taskql/graph"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/testdb"
)

// DESIGN §7: the playground's files (GraphiQL and its dependencies) are embedded in the binary and
// served by taskql itself; the page may load nothing from anywhere else (its
// Content-Security-Policy says so), and it works with no network. clients/playground.mjs, run by
// ../playground_browser_test.go, checks the same in a real browser.

// pageRefs are the URLs of a page's src= and href= attributes; cssRefs those of a stylesheet's url().
var (
	pageRefs = regexp.MustCompile(`\s(?:src|href)="([^"]*)"`)
	cssRefs  = regexp.MustCompile(`url\(\s*['"]?([^'")]*)`)
	scripts  = regexp.MustCompile(`(?s)<script\b([^>]*)>(.*?)</script>`)
)

func get(t *testing.T, a *api, path string, header ...string) *response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, a.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return a.send(req)
}

// cspDirectives splits a Content-Security-Policy into its directives.
func cspDirectives(csp string) map[string]string {
	d := map[string]string{}
	for part := range strings.SplitSeq(csp, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(part), " ")
		if name != "" {
			d[name] = value
		}
	}
	return d
}

func TestPlaygroundServesEveryFileItsPageLoads(t *testing.T) {
	t.Parallel()
	st := testdb.SQLite(t)
	seedWorld(t, st)
	a := serve(t, st, graph.Options{PlaygroundToken: tokAdmin})
	page := get(t, a, "/")
	if page.Status != http.StatusOK || page.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: status %d, Content-Type %q; want 200 text/html", page.Status, page.Header.Get("Content-Type"))
	}
	if cc := page.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("GET /: Cache-Control %q, want no-store (the page may carry the demo token)", cc)
	}

	// The policy: everything from the server itself; scripts from files only; the page's own
	// WebSocket origin for subscriptions.
	csp := cspDirectives(page.Header.Get("Content-Security-Policy"))
	host := strings.TrimPrefix(a.srv.URL, "http://")
	for name, want := range map[string]string{
		"default-src":     "'self'",
		"script-src":      "'self'",
		"img-src":         "'self'",
		"font-src":        "'self'",
		"connect-src":     "'self' ws://" + host + " wss://" + host,
		"object-src":      "'none'",
		"base-uri":        "'none'",
		"frame-ancestors": "'none'",
	} {
		if csp[name] != want {
			t.Errorf("Content-Security-Policy %s is %q, want %q", name, csp[name], want)
		}
	}
	if !regexp.MustCompile(`^'self' 'nonce-[A-Za-z0-9_-]{16,}'$`).MatchString(csp["style-src"]) {
		t.Errorf("Content-Security-Policy style-src is %q, want 'self' and a nonce", csp["style-src"])
	}
	if again := cspDirectives(get(t, a, "/").Header.Get("Content-Security-Policy")); again["style-src"] == csp["style-src"] {
		t.Errorf("two pages have the same style nonce %s", csp["style-src"])
	}

	body := string(page.Body)
	for _, m := range scripts.FindAllStringSubmatch(body, -1) {
		if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
			t.Errorf("the page holds an inline script, which its policy would refuse: %.200s", m[0])
		}
	}

	// Every file the page names, and every file its stylesheets name, is served, from here.
	refs := pageRefs.FindAllStringSubmatch(body, -1)
	if len(refs) < 5 {
		t.Fatalf("the page names %d files; want its scripts, stylesheets and icon:\n%s", len(refs), body)
	}
	served := map[string]bool{}
	var fetch func(from, ref string)
	fetch = func(from, ref string) {
		ref = html.UnescapeString(ref)
		u, err := url.Parse(ref)
		if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(ref, "/") {
			t.Errorf("%s names %q: not a path of this server", from, ref)
			return
		}
		if served[ref] {
			return
		}
		served[ref] = true
		r := get(t, a, ref)
		if r.Status != http.StatusOK || len(r.Body) == 0 {
			t.Errorf("GET %s (named by %s): status %d, %d bytes; want 200 and the file", ref, from, r.Status, len(r.Body))
			return
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no X-Content-Type-Options: nosniff", ref)
		}
		ct := r.Header.Get("Content-Type")
		switch {
		case strings.Contains(ref, ".js&"):
			if ct != "text/javascript; charset=utf-8" {
				t.Errorf("GET %s: Content-Type %q", ref, ct)
			}
		case strings.Contains(ref, ".css&"):
			if ct != "text/css; charset=utf-8" {
				t.Errorf("GET %s: Content-Type %q", ref, ct)
			}
			for _, m := range cssRefs.FindAllStringSubmatch(string(r.Body), -1) {
				fetch(ref, m[1])
			}
		}
	}
	for _, m := range refs {
		fetch("the page", m[1])
	}
	t.Logf("the page and the %d files it loads, directly or through its stylesheets, are served", len(served))
	for _, want := range []string{"vendor/react.production.min.js", "vendor/react-dom.production.min.js", "vendor/graphiql.min.js",
		"vendor/graphiql.min.css", "playground.js", "LICENSES.txt"} {
		if !strings.Contains(body, "/?asset="+want+"&amp;v=") {
			t.Errorf("the page does not name %s", want)
		}
	}
	if n := strings.Count(strings.Join(keys(served), " "), "vendor/fonts/"); n == 0 {
		t.Errorf("GraphiQL's stylesheet names no font of the playground's; want its fonts served from here")
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A file whose URL names its content's hash is cached for good; otherwise it is revalidated by
// its ETag. Text is gzipped for a client that accepts it. An unknown file is 404.
func TestPlaygroundFilesAreCachedAndCompressed(t *testing.T) {
	t.Parallel()
	st := testdb.SQLite(t)
	a := serve(t, st, graph.Options{})
	page := get(t, a, "/")
	m := regexp.MustCompile(`src="(/\?asset=vendor/graphiql\.min\.js&amp;v=[0-9a-f]+)"`).FindStringSubmatch(string(page.Body))
	if m == nil {
		t.Fatalf("the page does not load vendor/graphiql.min.js:\n%s", page.Body)
	}
	versioned := html.UnescapeString(m[1])
	plain := get(t, a, versioned)
	if cc := plain.Header.Get("Cache-Control"); plain.Status != http.StatusOK || cc != "public, max-age=31536000, immutable" {
		t.Errorf("GET %s: status %d, Cache-Control %q; want 200, immutable", versioned, plain.Status, cc)
	}
	if cc := get(t, a, "/?asset=vendor/graphiql.min.js").Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("GET /?asset=vendor/graphiql.min.js (no version): Cache-Control %q, want no-cache", cc)
	}
	if r := get(t, a, versioned, "If-None-Match", plain.Header.Get("ETag")); r.Status != http.StatusNotModified || len(r.Body) != 0 {
		t.Errorf("GET %s with If-None-Match its ETag: status %d, %d bytes; want 304", versioned, r.Status, len(r.Body))
	}

	// The test's client would gunzip by itself: a transport that does not, to see the bytes.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, a.srv.URL+versioned, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", "br, gzip")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	zipped, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("GET %s accepting gzip: Content-Encoding %q, Vary %q; want gzip", versioned, res.Header.Get("Content-Encoding"), res.Header.Get("Vary"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(unzipped, plain.Body) {
		t.Errorf("the gzipped file does not unzip to the file (%v)", err)
	}
	t.Logf("vendor/graphiql.min.js: %d bytes, %d gzipped", len(plain.Body), len(zipped))

	for _, path := range []string{"/?asset=nope.js", "/?asset=../web.go", "/?asset=index.html", "/?asset="} {
		if r := get(t, a, path); r.Status != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, r.Status)
		}
	}
}

// The demo token is offered while it authenticates, and no longer once revoked; the page names it
// only in its settings, which playground.js reads.
func TestPlaygroundOffersTheDemoTokenOnlyWhileItWorks(t *testing.T) {
	t.Parallel()
	st := testdb.SQLite(t)
	seedWorld(t, st)
	a := serve(t, st, graph.Options{PlaygroundToken: tokAdmin})
	settings := func() map[string]string {
		t.Helper()
		r := get(t, a, "/")
		m := regexp.MustCompile(`<meta name="taskql-playground" content="([^"]*)">`).FindSubmatch(r.Body)
		if r.Status != http.StatusOK || m == nil {
			t.Fatalf("GET /: status %d, no settings in the page:\n%s", r.Status, r.Body)
		}
		var s map[string]string
		if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &s); err != nil {
			t.Fatalf("the page's settings %s: %v", m[1], err)
		}
		return s
	}
	if s := settings(); s["demoAuthorization"] != "Bearer "+tokAdmin || s["endpoint"] != "/query" {
		t.Errorf("the page's settings are %v; want the endpoint /query and the demo token Bearer %s", s, tokAdmin)
	}
	if _, err := st.RevokeTokens(t.Context(), "usr_admin"); err != nil {
		t.Fatal(err)
	}
	if s := settings(); s["demoAuthorization"] != "" {
		t.Errorf("after the demo token was revoked the page still offers %q", s["demoAuthorization"])
	}
	if r := get(t, a, "/"); strings.Contains(string(r.Body), tokAdmin) {
		t.Errorf("after the demo token was revoked the page still names it")
	}

	// Without a demo token the page offers none, and the playground still works.
	b := serve(t, st, graph.Options{})
	if r := get(t, b, "/"); r.Status != http.StatusOK || strings.Contains(string(r.Body), "demoAuthorization") {
		t.Errorf("GET / without a demo token: status %d; want a page that offers none", r.Status)
	}
}

// Production has no playground: neither the page nor its files.
func TestPlaygroundIsNotServedInProduction(t *testing.T) {
	t.Parallel()
	st := testdb.SQLite(t)
	seedWorld(t, st)
	a := serve(t, st, graph.Options{Production: true, PlaygroundToken: tokAdmin})
	for _, path := range []string{"/", "/?asset=vendor/graphiql.min.js", "/?asset=LICENSES.txt"} {
		if r := get(t, a, path); r.Status != http.StatusNotFound {
			t.Errorf("GET %s in production: status %d, want 404", path, r.Status)
		}
	}
}

// The policy's WebSocket origins are the Host the browser asked for, when it is a plain
// host[:port]; anything else could end the source list, and gets 'self' alone.
func TestPlaygroundPolicyNamesOnlyAPlainHost(t *testing.T) {
	t.Parallel()
	st := testdb.SQLite(t)
	h := graph.NewServer(rules.New(st), graph.Options{})
	for host, want := range map[string]string{
		"localhost:8080":             "'self' ws://localhost:8080 wss://localhost:8080",
		"taskql.example.com":         "'self' ws://taskql.example.com wss://taskql.example.com",
		"[::1]:9000":                 "'self' ws://[::1]:9000 wss://[::1]:9000",
		"evil.test;script-src *":     "'self'",
		"evil.test 'unsafe-inline'":  "'self'",
		"a.test:80:80":               "'self'",
		"under_score.test:8080/path": "'self'",
	} {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		csp := rec.Header().Get("Content-Security-Policy")
		if got := cspDirectives(csp)["connect-src"]; got != want {
			t.Errorf("Host %q: connect-src %q, want %q (policy %q)", host, got, want, csp)
		}
		if strings.Count(csp, "script-src") != 1 {
			t.Errorf("Host %q: the policy is %q", host, csp)
		}
	}
}

// LICENSES.txt, served with the files, names every package that web/package.json pins for the
// page, at its version: the committed files are those of the lockfile (web/refresh.sh).
func TestPlaygroundLicencesNameThePinnedPackages(t *testing.T) {
	t.Parallel()
	st := testdb.SQLite(t)
	a := serve(t, st, graph.Options{})
	r := get(t, a, "/?asset=LICENSES.txt")
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("GET /?asset=LICENSES.txt: status %d, Content-Type %q", r.Status, r.Header.Get("Content-Type"))
	}
	raw, err := os.ReadFile("../web/package.json")
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct{ Dependencies map[string]string }
	if err := json.Unmarshal(raw, &pkg); err != nil {
		t.Fatal(err)
	}
	if len(pkg.Dependencies) == 0 {
		t.Fatal("web/package.json pins no dependencies")
	}
	for name, version := range pkg.Dependencies {
		if !strings.Contains(string(r.Body), "\n  "+name+"@"+version+"  ") {
			t.Errorf("LICENSES.txt does not list %s@%s, which web/package.json pins: run web/refresh.sh", name, version)
		}
	}
	for _, font := range []string{"Roboto", "Fira Code"} {
		if !strings.Contains(string(r.Body), "Font "+font) {
			t.Errorf("LICENSES.txt has no licence for the font %s", font)
		}
	}
}
