// Package web holds the static files taskql embeds in its binary, so that they are served with
// no network: the GraphiQL playground of DESIGN §7 (playground/), which graph serves at /.
//
// playground/index.html, playground.js, playground.css and favicon.svg are taskql's own;
// playground/vendor/ (GraphiQL, React and what they hold, at exact versions) and
// playground/LICENSES.txt are generated from npm packages by refresh.sh, and committed: the Go
// build needs no npm.
package web

import "embed"

// Playground is the playground's directory: index.html (a html/template), the files it loads,
// and LICENSES.txt.
//
//go:embed playground
var Playground embed.FS

// App is the board's directory (issue 16, served at /app): index.html (a html/template), its
// plain ES modules and stylesheet, and vendor/graphql-ws/ (graphql-ws's browser client, the
// files of the npm package as they are, copied by refresh-app.sh).
//
//go:embed app
var App embed.FS
