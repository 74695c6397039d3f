package graph

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"

	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/web"
)

// The board (issue 16) is a small front end served at /app from files embedded in the binary
// (web/app: plain ES modules, and graphql-ws's browser client as npm ships it), in development
// and in production: it signs in with a token, shows a project's tasks by phase with their
// assignees, assigns through a picker fed by Task.assignableUsers, and hears changes over the
// subscription taskAssigneesChanged. It loads nothing from anywhere else (the same
// Content-Security-Policy as the playground's, without inline styles), so it works offline.
//
// Its files are served at /app/NAME; the page names them with ?v=HASH (cached for good), and the
// modules they import by relative URL are revalidated. In development mode the page offers the
// demo tokens that still authenticate, in a <meta> element its script reads.

// DemoToken is a token of the demo world that the board offers to sign in with, in development
// mode, while it authenticates.
type DemoToken struct {
	Token string
	// Label says whose token it is, e.g. "Ada Lovelace (AGENCY, org admin)".
	Label string
}

// board serves the page at /app and its files.
type board struct {
	svc  *rules.Service
	demo []DemoToken // nil in production
}

// boardConfig is what the page tells app.js.
type boardConfig struct {
	Endpoint   string           `json:"endpoint"`
	DemoTokens []boardDemoToken `json:"demoTokens"`
}

type boardDemoToken struct {
	Token string `json:"token"`
	Label string `json:"label"`
}

// boardFiles reads the embedded board once; it fails like playgroundFiles.
var boardFiles = sync.OnceValues(func() (*staticSite, error) {
	return readSite(web.App, "app", func(name, version string) string {
		return "/app/" + name + "?v=" + version
	})
})

// page serves GET /app: the page, with the demo tokens that authenticate now.
func (b *board) page(w http.ResponseWriter, r *http.Request) {
	files, err := boardFiles()
	if err != nil {
		http.Error(w, "the board's embedded files are broken: "+err.Error(), http.StatusInternalServerError)
		return
	}
	cfg := boardConfig{Endpoint: "/query", DemoTokens: []boardDemoToken{}}
	for _, d := range b.demo {
		if _, err := b.svc.Authenticate(r.Context(), d.Token); err == nil {
			cfg.DemoTokens = append(cfg.DemoTokens, boardDemoToken{Token: d.Token, Label: d.Label})
		}
	}
	settings, err := json.Marshal(cfg)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	var page bytes.Buffer
	if err := files.page.Execute(&page, map[string]string{"Config": string(settings)}); err != nil {
		http.Error(w, "the board's page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", pageCSP(r.Host, "'self'"))
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store") // it may carry the demo tokens
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Length", strconv.Itoa(page.Len()))
	if r.Method != http.MethodHead {
		_, _ = w.Write(page.Bytes())
	}
}

// asset serves GET /app/{asset...}.
func (b *board) asset(w http.ResponseWriter, r *http.Request) {
	files, err := boardFiles()
	if err != nil {
		http.Error(w, "the board's embedded files are broken: "+err.Error(), http.StatusInternalServerError)
		return
	}
	files.serveAsset(w, r, r.PathValue("asset"))
}
