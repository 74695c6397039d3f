package graph

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/web"
)

// The playground (DESIGN §7) is GraphiQL served at / in development mode from files embedded in
// the binary (web/playground: GraphiQL 3 and React 18 at exact versions), so that it works with
// no network. Its files are served by the same route, as /?asset=NAME&v=HASH: the page may load
// nothing from anywhere else (its Content-Security-Policy says so), and a file whose URL names its
// content's hash is cached for good.
//
// The page carries its settings in a <meta> element, read by playground.js: the endpoint, and the
// demo token as "Bearer <token>" while that token still authenticates. playground.js sends the
// token, or the one typed in the page, with every request GraphiQL makes (the schema's
// introspection included) and in connection_init of its subscriptions (graphql-transport-ws).

// playground serves the page and its files.
type playground struct {
	svc   *rules.Service
	token string // the demo token, offered only while it authenticates; "" for none
}

// newPlayground is the handler of GET / in development mode.
func newPlayground(svc *rules.Service, token string) http.Handler {
	return &playground{svc: svc, token: token}
}

// playgroundConfig is what the page tells playground.js.
type playgroundConfig struct {
	Endpoint string `json:"endpoint"`
	// DemoAuthorization is "Bearer <demo token>" while the demo token works.
	DemoAuthorization string `json:"demoAuthorization,omitempty"`
	// StyleNonce lets GraphiQL's dialogs add the <style> elements they need under the CSP.
	StyleNonce string `json:"styleNonce"`
}

func (p *playground) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	files, err := playgroundFiles()
	if err != nil {
		http.Error(w, "the playground's embedded files are broken: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if r.URL.Query().Has("asset") {
		files.serveAsset(w, r, r.URL.Query().Get("asset"))
		return
	}
	cfg := playgroundConfig{Endpoint: "/query", StyleNonce: nonce()}
	if p.token != "" {
		if _, err := p.svc.Authenticate(r.Context(), p.token); err == nil {
			cfg.DemoAuthorization = "Bearer " + p.token
		}
	}
	settings, err := json.Marshal(cfg)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	var page bytes.Buffer
	if err := files.page.Execute(&page, map[string]string{"Config": string(settings)}); err != nil {
		http.Error(w, "the playground's page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", playgroundCSP(r.Host, cfg.StyleNonce))
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store") // it may carry the demo token, and says whether it works
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Length", strconv.Itoa(page.Len()))
	if r.Method != http.MethodHead {
		_, _ = w.Write(page.Bytes())
	}
}

// playgroundCSP is the page's Content-Security-Policy: everything from the server itself, no
// inline script, no eval, no data: URL, nothing framing it. connect-src names the WebSocket
// origins of the host the browser asked for (where 'self' does not cover ws: and wss:, as in
// older Safari); a Host that is not a plain host[:port] gets 'self' alone. Inline <style>
// elements need the page's nonce (GraphiQL's dialogs add one while open).
func playgroundCSP(host, styleNonce string) string {
	return pageCSP(host, "'self' 'nonce-"+styleNonce+"'")
}

// pageCSP is the Content-Security-Policy of an embedded page (the playground, the board) whose
// stylesheets come from styleSrc.
func pageCSP(host, styleSrc string) string {
	connect := "'self'"
	if plainHost.MatchString(host) {
		connect += " ws://" + host + " wss://" + host
	}
	return "default-src 'self'; script-src 'self'; style-src " + styleSrc + "; img-src 'self'; " +
		"font-src 'self'; connect-src " + connect + "; object-src 'none'; base-uri 'none'; form-action 'none'; " +
		"frame-ancestors 'none'"
}

// plainHost is a host name or an IP address, with an optional port: nothing that could end a
// CSP source list (a space, a semicolon, a quote).
var plainHost = regexp.MustCompile(`^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$`)

// nonce is a fresh CSP nonce.
func nonce() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// staticSite is an embedded page (the playground, the board), read once: the page's template and
// the files it loads, by name (their path under its directory), and how a file's URL is made.
type staticSite struct {
	page   *template.Template
	assets map[string]*staticAsset
	// urlOf is the URL of a file, from its name and the short hash of its content.
	urlOf func(name, version string) string
}

type staticAsset struct {
	body        []byte
	contentType string
	hash        string // hex SHA-256 of body
	compress    bool   // worth gzipping (text)

	gzipOnce sync.Once
	gzipped  []byte
}

// assetTypes are the files the playground may hold, by extension, and whether they compress.
var assetTypes = map[string]struct {
	contentType string
	compress    bool
}{
	".js":    {"text/javascript; charset=utf-8", true},
	".css":   {"text/css; charset=utf-8", true},
	".txt":   {"text/plain; charset=utf-8", true},
	".svg":   {"image/svg+xml", true},
	".png":   {"image/png", false},
	".woff2": {"font/woff2", false},
	".woff":  {"font/woff", false},
}

// assetName is the form of a file's name: nothing a URL's query would need to escape.
var assetName = regexp.MustCompile(`^[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*$`)

// cssURL is a url(...) of a stylesheet: GraphiQL's refers to its fonts and images by relative
// paths, which become their asset URLs.
var cssURL = regexp.MustCompile(`url\(\s*(['"]?)([^'")]*)(['"]?)\s*\)`)

// playgroundFiles reads the embedded playground once. It fails if a file is of an unknown type,
// if a stylesheet refers to a file that is not there, or if the page names one.
var playgroundFiles = sync.OnceValues(func() (*staticSite, error) {
	return readSite(web.Playground, "playground", func(name, version string) string {
		return "/?asset=" + name + "&v=" + version
	})
})

// readSite reads the page dir/index.html of fsys and its files, whose URLs urlOf makes.
func readSite(fsys fs.FS, dir string, urlOf func(name, version string) string) (*staticSite, error) {
	root, err := fs.Sub(fsys, dir)
	if err != nil {
		return nil, err
	}
	site := &staticSite{assets: map[string]*staticAsset{}, urlOf: urlOf}
	err = fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || name == "index.html" {
			return err
		}
		t, ok := assetTypes[path.Ext(name)]
		if !ok || !assetName.MatchString(name) {
			return fmt.Errorf("%s: not a file the page can serve", name)
		}
		body, err := fs.ReadFile(root, name)
		if err != nil {
			return err
		}
		site.assets[name] = &staticAsset{body: body, contentType: t.contentType, compress: t.compress}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := site.hashAssets(); err != nil {
		return nil, err
	}
	page, err := fs.ReadFile(root, "index.html")
	if err != nil {
		return nil, err
	}
	site.page, err = template.New("index.html").Funcs(template.FuncMap{"asset": site.assetURL}).Parse(string(page))
	if err != nil {
		return nil, err
	}
	// The page names only files that are there: tried once here rather than on every request.
	if err := site.page.Execute(new(bytes.Buffer), map[string]string{"Config": "{}"}); err != nil {
		return nil, err
	}
	return site, nil
}

// hashAssets names each file by its content. A stylesheet's URLs name files that it does not
// hold: those are hashed first, and the stylesheet after its URLs are rewritten to them.
func (s *staticSite) hashAssets() error {
	for _, a := range s.assets {
		if !strings.HasPrefix(a.contentType, "text/css") {
			a.hash = hashOf(a.body)
		}
	}
	for name, a := range s.assets {
		if !strings.HasPrefix(a.contentType, "text/css") {
			continue
		}
		var missing error
		a.body = cssURL.ReplaceAllFunc(a.body, func(m []byte) []byte {
			ref := string(cssURL.FindSubmatch(m)[2])
			target := path.Join(path.Dir(name), ref)
			if strings.Contains(ref, ":") || s.assets[target] == nil || strings.HasPrefix(s.assets[target].contentType, "text/css") {
				missing = fmt.Errorf("%s refers to %s, which the page cannot serve", name, ref)
				return m
			}
			return []byte("url(" + s.url(target) + ")")
		})
		if missing != nil {
			return missing
		}
		a.hash = hashOf(a.body)
	}
	return nil
}

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// assetVersion is how much of a file's hash its URL carries.
const assetVersion = 16

// url is the URL of a file of the site (which must be there).
func (s *staticSite) url(name string) string {
	return s.urlOf(name, s.assets[name].hash[:assetVersion])
}

// assetURL is url for the page's template: a name that is not a file is an error.
func (s *staticSite) assetURL(name string) (template.URL, error) {
	if s.assets[name] == nil {
		return "", fmt.Errorf("index.html names %s, which is not a file of the page", name)
	}
	return template.URL(s.url(name)), nil
}

// serveAsset serves the file name (/?asset=NAME of the playground): cached for a year when the
// URL names the file's current hash (v=, as the page does), else revalidated; gzipped when it
// helps and the client accepts it.
func (s *staticSite) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	q := r.URL.Query()
	a := s.assets[name]
	if a == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	etag := `"` + a.hash[:assetVersion*2] + `"`
	h.Set("ETag", etag)
	if q.Get("v") == a.hash[:assetVersion] {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	body := a.body
	if a.compress {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			body = a.gzip()
			h.Set("Content-Encoding", "gzip")
			etag = `"` + a.hash[:assetVersion*2] + `-gzip"`
			h.Set("ETag", etag)
		}
	}
	if noneMatch := r.Header.Get("If-None-Match"); noneMatch != "" && etagMatches(noneMatch, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// gzip is the file gzipped, made once, on first use.
func (a *staticAsset) gzip() []byte {
	a.gzipOnce.Do(func() {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		_, _ = zw.Write(a.body)
		_ = zw.Close()
		a.gzipped = b.Bytes()
	})
	return a.gzipped
}

// acceptsGzip tells whether an Accept-Encoding header accepts gzip (not with q=0).
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.TrimSpace(coding)
		if !strings.EqualFold(coding, "gzip") && coding != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return !(strings.HasPrefix(q, "q=0") && strings.Trim(strings.TrimPrefix(q, "q=0"), ".0") == "")
	}
	return false
}

// etagMatches tells whether an If-None-Match header names etag (or is *).
func etagMatches(header, etag string) bool {
	for part := range strings.SplitSeq(header, ",") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "W/")
		if part == "*" || part == etag {
			return true
		}
	}
	return false
}
