package main

import (
	"context"
	"fmt"
	"io"

	"github.com/taskql/taskql/graph"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/seed"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

// demo loads the demo world into an empty database and prints the demo tokens that still work
// (`token revoke` may have revoked some since). It returns them, the org admin's first unless it
// was revoked: the playground pre-fills the first, the board (/app) offers them all.
func demo(ctx context.Context, st *store.Store, svc *rules.Service, out io.Writer) ([]graph.DemoToken, error) {
	w := seed.Demo()
	empty, err := seed.Empty(ctx, st)
	if err != nil {
		return nil, err
	}
	if empty {
		if err := seed.Load(ctx, st, w); err != nil {
			return nil, fmt.Errorf("load demo world: %w", err)
		}
		fmt.Fprintln(out, "taskql: loaded the demo world into the empty database")
	}
	var working []demoToken
	for _, t := range w.Tokens {
		v, err := svc.Authenticate(ctx, t.Token)
		if err != nil {
			continue
		}
		working = append(working, demoToken{token: t.Token, user: string(v.ID), about: fmt.Sprintf("%s (%s)", v.Name(), describe(v))})
	}
	printDemoTokens(out, working)
	tokens := make([]graph.DemoToken, len(working))
	for i, t := range working {
		tokens[i] = graph.DemoToken{Token: t.token, Label: t.about}
	}
	return tokens, nil
}

// demoToken is a line of printDemoTokens.
type demoToken struct {
	token string
	user  string
	about string // who the user is, or "" to print the user's id alone
}

// printDemoTokens prints tokens under a header that says how to send them, one a line, the
// token padded so that the users line up; nothing when there are none. Both serve and
// `seed --demo` print the demo tokens with it, since the database keeps only their hashes.
func printDemoTokens(out io.Writer, tokens []demoToken) {
	if len(tokens) == 0 {
		return
	}
	fmt.Fprintln(out, "taskql: demo tokens (send as Authorization: Bearer <token>):")
	for _, t := range tokens {
		line := fmt.Sprintf("  %-28s %s", t.token, t.user)
		if t.about != "" {
			line += " " + t.about
		}
		fmt.Fprintln(out, line)
	}
}

// describe says what kind of user a viewer is, for the line of its demo token: its company's
// kind, and whether it is an org admin or not approved.
func describe(v *model.Viewer) string {
	s := string(v.CompanyKind)
	if v.IsOrgAdmin {
		s += ", org admin"
	}
	if !v.IsAccessApproved {
		s += ", not approved"
	}
	return s
}
