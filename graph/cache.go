package graph

import (
	"context"
	"math"

	"github.com/99designs/gqlgen/graphql"
	"github.com/maypok86/otter/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// documentCacheBytes bounds the memory of the parsed documents kept between requests: room for
// some hundreds of a front end's operations, and a fixed share of the server's memory whatever
// documents are sent.
const documentCacheBytes = 16 << 20

// documentCache is gqlgen's cache of parsed and validated documents, with two guarantees gqlgen's
// own LRU lacks (DESIGN §7). Its memory is bounded in bytes, not in entries: one entry may be a
// megabyte of query text and its syntax tree. And a document enters it only once its request has
// passed every limit: gqlgen adds a document as soon as it validates, before the complexity limit
// runs, so a document refused for its complexity would otherwise stay cached. Add therefore only
// notes the document on its request (see withPendingDocument), and the admit extension, the last
// to run, caches it.
type documentCache struct {
	docs *otter.Cache[string, *ast.QueryDocument]
}

func newDocumentCache(maxBytes uint64) *documentCache {
	return &documentCache{docs: otter.Must(&otter.Options[string, *ast.QueryDocument]{
		MaximumWeight: maxBytes,
		Weigher:       documentWeight,
	})}
}

var _ graphql.Cache[*ast.QueryDocument] = (*documentCache)(nil)

// Get returns the cached document of a query text.
func (c *documentCache) Get(_ context.Context, query string) (*ast.QueryDocument, bool) {
	return c.docs.GetIfPresent(query)
}

// has tells whether a query text is cached.
func (c *documentCache) has(query string) bool {
	_, ok := c.docs.GetIfPresent(query)
	return ok
}

// Add notes a document that has just validated on its request, to be cached by admit once every
// later check passed; outside a request it caches it at once.
func (c *documentCache) Add(ctx context.Context, query string, doc *ast.QueryDocument) {
	if p, ok := ctx.Value(pendingKey{}).(*pendingDocument); ok {
		p.query, p.doc = query, doc
		return
	}
	c.docs.Set(query, doc)
}

type pendingKey struct{}

// pendingDocument is a document waiting on its request for admission into the cache.
type pendingDocument struct {
	query string
	doc   *ast.QueryDocument
}

// withPendingDocument prepares a request's context for the cache's Add.
func withPendingDocument(ctx context.Context) context.Context {
	return context.WithValue(ctx, pendingKey{}, &pendingDocument{})
}

// admit caches the request's pending document. Registered after every extension that may refuse
// an operation, it runs only for operations that none refused.
type admit struct{ cache *documentCache }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = admit{}

func (admit) ExtensionName() string                   { return "AdmitDocument" }
func (admit) Validate(graphql.ExecutableSchema) error { return nil }

func (a admit) MutateOperationContext(ctx context.Context, _ *graphql.OperationContext) *gqlerror.Error {
	if p, ok := ctx.Value(pendingKey{}).(*pendingDocument); ok && p.doc != nil {
		a.cache.docs.Set(p.query, p.doc)
		p.doc = nil
	}
	return nil
}

// What a parsed document costs in memory beyond its text, measured with runtime.MemStats on
// parsed documents of every shape (TestDocumentWeightCoversItsMemory): a fixed part (the
// document, its operation, the cache's entry), and each node (a field, an argument, a value,
// with its position).
const (
	bytesPerDocument = 8 << 10
	bytesPerNode     = 400
)

// documentWeight estimates the bytes a cached document holds: its text, and its syntax tree.
func documentWeight(query string, doc *ast.QueryDocument) uint32 {
	n := 0
	for _, op := range doc.Operations {
		n += 1 + len(op.VariableDefinitions) + nodes(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		n += 1 + nodes(f.SelectionSet)
	}
	w := uint64(len(query)) + bytesPerDocument + uint64(n)*bytesPerNode
	return uint32(min(w, math.MaxUint32))
}

// nodes counts the selections of a set and their arguments' values, nested ones included.
func nodes(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		n++
		switch s := sel.(type) {
		case *ast.Field:
			for _, a := range s.Arguments {
				n += 1 + values(a.Value)
			}
			n += len(s.Directives) + nodes(s.SelectionSet)
		case *ast.InlineFragment:
			n += len(s.Directives) + nodes(s.SelectionSet)
		case *ast.FragmentSpread:
			n += len(s.Directives)
		}
	}
	return n
}

// values counts the values nested in a value (a list's items, an object's fields).
func values(v *ast.Value) int {
	if v == nil {
		return 0
	}
	n := 1
	for _, c := range v.Children {
		n += values(c.Value)
	}
	return n
}
