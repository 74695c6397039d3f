package graph

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// Limits bound what one request may ask of the server (DESIGN §7). A zero field takes its
// default.
type Limits struct {
	// BodyBytes bounds a request's body (HTTP 413).
	BodyBytes int64
	// Tokens bounds the parser tokens of a document (GRAPHQL_PARSE_FAILED).
	Tokens int
	// Depth bounds how deeply fields nest; introspection's ofType chain does not count
	// (GRAPHQL_VALIDATION_FAILED).
	Depth int
	// Selections bounds the fields, aliases and fragment spreads a document selects, as written,
	// before fragments expand (GRAPHQL_VALIDATION_FAILED).
	Selections int
	// RootMutations bounds the mutation fields of one operation: each is a transaction
	// (GRAPHQL_VALIDATION_FAILED).
	RootMutations int
	// Complexity bounds an operation's complexity: every field 1, a connection field times its
	// first, nested lists multiplying (COMPLEXITY_LIMIT_EXCEEDED).
	Complexity int
	// Deadline bounds how long a query or mutation may run, waiting for its turn included
	// (UNAVAILABLE).
	Deadline time.Duration
	// WebSocketMessage bounds a message a client sends on a WebSocket (close 4400).
	WebSocketMessage int64
	// SubscriptionsPerConnection and SubscriptionsPerToken bound the subscriptions one WebSocket
	// connection, and one token across connections, may hold (RATE_LIMITED on subscribe).
	SubscriptionsPerConnection int
	SubscriptionsPerToken      int
}

// DefaultLimits are DESIGN §7's.
var DefaultLimits = Limits{
	BodyBytes:     1 << 20,
	Tokens:        15_000,
	Depth:         15,
	Selections:    1_000,
	RootMutations: 10,
	Complexity:    20_000,
	Deadline:      10 * time.Second,

	WebSocketMessage:           64 << 10,
	SubscriptionsPerConnection: 20,
	SubscriptionsPerToken:      100,
}

// orDefaults fills in the zero fields.
func (l Limits) orDefaults() Limits {
	d := DefaultLimits
	pick := func(v, def int) int {
		if v == 0 {
			return def
		}
		return v
	}
	l.Tokens, l.Depth, l.Selections = pick(l.Tokens, d.Tokens), pick(l.Depth, d.Depth), pick(l.Selections, d.Selections)
	l.RootMutations, l.Complexity = pick(l.RootMutations, d.RootMutations), pick(l.Complexity, d.Complexity)
	l.SubscriptionsPerConnection = pick(l.SubscriptionsPerConnection, d.SubscriptionsPerConnection)
	l.SubscriptionsPerToken = pick(l.SubscriptionsPerToken, d.SubscriptionsPerToken)
	if l.BodyBytes == 0 {
		l.BodyBytes = d.BodyBytes
	}
	if l.WebSocketMessage == 0 {
		l.WebSocketMessage = d.WebSocketMessage
	}
	if l.Deadline == 0 {
		l.Deadline = d.Deadline
	}
	return l
}

// maxIntrospections is how many introspection fields (__schema, __type) one operation may
// select: what a client needs to learn the schema.
const maxIntrospections = 1

// introspectionWeight is what each field under __schema or __type counts toward the complexity
// limit: what introspection returns grows with the schema (its lists of types, fields and
// arguments), which the document does not show, and gqlgen's complexity counts it as nothing.
// GraphiQL's introspection query (about 250 fields) passes; hundreds of aliases do not.
const introspectionWeight = 50

// documentLimits refuses a document that passes DESIGN §7's limits before gqlgen parses and
// validates it: gqlparser's validation costs time quadratic in the fields of one selection set,
// and gqlgen's complexity walk expands every fragment spread, so a document must be known small
// before either runs. The document is parsed here with the token limit, then counted: fields as
// written, fields once fragments expand (saturating, each fragment counted once), depth, and the
// root fields of mutations. A document already in the cache passed all this before.
type documentLimits struct {
	limits Limits
	cache  *documentCache
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = documentLimits{}

func (documentLimits) ExtensionName() string                   { return "DocumentLimits" }
func (documentLimits) Validate(graphql.ExecutableSchema) error { return nil }

func (l documentLimits) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	if raw.Query == "" || l.cache.has(raw.Query) {
		return nil
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: raw.Query}, l.limits.Tokens)
	if err != nil {
		gqlErr, ok := err.(*gqlerror.Error)
		if !ok {
			gqlErr = gqlerror.Errorf("the document does not parse")
		}
		errcode.Set(gqlErr, errcode.ParseFailed)
		if strings.HasPrefix(gqlErr.Message, "exceeded token limit") { // gqlparser's words
			refused(ctx, "tokens")
		}
		return gqlErr
	}
	limit, refusal := l.check(doc)
	if refusal != nil {
		refused(ctx, limit)
	}
	return refusal
}

// check counts a parsed, unvalidated document against the limits, and names the limit it passes.
func (l documentLimits) check(doc *ast.QueryDocument) (string, *gqlerror.Error) {
	c := counter{fragments: map[string]*ast.FragmentDefinition{}, sizes: map[string]size{}, limit: l.limits.Complexity}
	written := 0
	for _, f := range doc.Fragments {
		c.fragments[f.Name] = f
		written += countWritten(f.SelectionSet)
	}
	for _, op := range doc.Operations {
		written += countWritten(op.SelectionSet)
	}
	if written > l.limits.Selections {
		return "selections", refusal(errcode.ValidationFailed, "the document selects %d fields, aliases and fragment spreads, more than the limit of %d", written, l.limits.Selections)
	}
	for _, op := range doc.Operations {
		s, cycle := c.selectionSet(op.SelectionSet, nil)
		switch {
		case cycle != "":
			return "fragments", refusal(errcode.ValidationFailed, "fragment %s spreads itself", cycle)
		case s.fields > l.limits.Complexity:
			return "complexity", refusal(complexityLimitExceeded, "the operation selects more than %d fields once its fragments expand, more than its complexity limit allows", l.limits.Complexity)
		case s.depth > l.limits.Depth:
			return "depth", refusal(errcode.ValidationFailed, "the operation nests fields %d deep, more than the limit of %d", s.depth, l.limits.Depth)
		case s.introspections > maxIntrospections:
			return "introspection", refusal(errcode.ValidationFailed, "the operation introspects the schema %d times, more than the limit of %d", s.introspections, maxIntrospections)
		}
		if op.Operation == ast.Mutation {
			if n := c.rootFields(op.SelectionSet, nil); n > l.limits.RootMutations {
				return "mutations", refusal(errcode.ValidationFailed, "the operation has %d mutation fields, more than the limit of %d", n, l.limits.RootMutations)
			}
		}
	}
	return "", nil
}

// complexityLimitExceeded is gqlgen's code for a query over its complexity limit.
const complexityLimitExceeded = "COMPLEXITY_LIMIT_EXCEEDED"

func refusal(code, format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, code)
	return err
}

// countWritten counts the selections of a set as written, nested ones included.
func countWritten(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		n++
		switch s := sel.(type) {
		case *ast.Field:
			n += countWritten(s.SelectionSet)
		case *ast.InlineFragment:
			n += countWritten(s.SelectionSet)
		}
	}
	return n
}

// size is what a selection set expands to.
type size struct {
	fields         int // fields once fragments expand, saturating past the limit
	depth          int // deepest nesting of fields, introspection's ofType not counted
	introspections int // __schema and __type fields
}

// counter expands fragments once each, remembering their sizes, so that a document whose
// fragments spread each other many times costs the counting no more than its text.
type counter struct {
	fragments map[string]*ast.FragmentDefinition
	sizes     map[string]size
	limit     int
}

// selectionSet sizes a set; path holds the fragments being expanded, to find a cycle (whose
// fragment's name it returns).
func (c *counter) selectionSet(set ast.SelectionSet, path []string) (size, string) {
	var total size
	for _, sel := range set {
		var s size
		var cycle string
		switch sel := sel.(type) {
		case *ast.Field:
			s, cycle = c.selectionSet(sel.SelectionSet, path)
			s.fields++
			if sel.Name != "ofType" {
				s.depth++
			}
			if sel.Name == "__schema" || sel.Name == "__type" {
				s.introspections++
				s.fields = min(s.fields*introspectionWeight, c.limit+1)
			}
		case *ast.InlineFragment:
			s, cycle = c.selectionSet(sel.SelectionSet, path)
		case *ast.FragmentSpread:
			s, cycle = c.fragment(sel.Name, path)
		}
		if cycle != "" {
			return size{}, cycle
		}
		total.fields = min(total.fields+s.fields, c.limit+1)
		total.introspections = min(total.introspections+s.introspections, maxIntrospections+1)
		total.depth = max(total.depth, s.depth)
	}
	return total, ""
}

func (c *counter) fragment(name string, path []string) (size, string) {
	if s, ok := c.sizes[name]; ok {
		return s, ""
	}
	if slices.Contains(path, name) {
		return size{}, name
	}
	f, ok := c.fragments[name]
	if !ok {
		return size{}, "" // an unknown fragment: validation names it
	}
	s, cycle := c.selectionSet(f.SelectionSet, append(path, name))
	if cycle == "" {
		c.sizes[name] = s
	}
	return s, cycle
}

// rootFields counts the fields of a root selection set, its fragments expanded.
func (c *counter) rootFields(set ast.SelectionSet, path []string) int {
	n := 0
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			n++
		case *ast.InlineFragment:
			n += c.rootFields(sel.SelectionSet, path)
		case *ast.FragmentSpread:
			if f, ok := c.fragments[sel.Name]; ok && !slices.Contains(path, sel.Name) {
				n += c.rootFields(f.SelectionSet, append(path, sel.Name))
			}
		}
		if n > c.limit {
			return n
		}
	}
	return n
}
