//go:build tools

// Package main's tools file pins gqlgen's generator in go.mod, so `go run
// github.com/99designs/gqlgen generate` uses the version the generated code was made with.
package main

import _ "github.com/99designs/gqlgen"
