package graph

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/taskql/taskql/internal/rules"
)

// The document cache is bounded by the weight of its entries (DESIGN §7: its memory is bounded in
// bytes whatever documents are sent); the weight must cover what a parsed, validated document
// really holds, for the densest documents the limits allow as for ordinary ones.
func TestDocumentWeightCoversItsMemory(t *testing.T) {
	schema := NewExecutableSchema(Config{Resolvers: &Resolver{Rules: (*rules.Service)(nil)}}).Schema()
	for name, query := range map[string]string{
		"dense fields":    "{ viewer { " + strings.Repeat("id ", 999) + "} }",
		"aliases":         "{ " + repeatf(300, "a%d: viewer { id }") + " }",
		"arguments":       "{ " + repeatf(150, `t%d: tasks(first: 1, filter: {status: [OPEN, CLOSED], projectId: "prj_x"}) { totalCount }`) + " }",
		"fragments":       "{ viewer { ...F0 } } " + repeatf(200, "fragment F%d on User { id name }"),
		"a page":          `{ tasks(first: 100) { edges { cursor node { id label phase { id name } assignees { id name email } } } pageInfo { endCursor } } }`,
		"a large comment": "# " + strings.Repeat("x", 500_000) + "\n{ viewer { id } }",
	} {
		t.Run(name, func(t *testing.T) {
			query = strings.Replace(query, "{ viewer { ...F0 } }", "{ viewer { "+repeatf(200, "...F%d ")+"} }", 1)
			// The heap moves with whatever else the process does (a server of an earlier test
			// winding down): a measurement is kept when it is positive, and the smallest of three
			// is the one compared, so that only a weight short of every measurement fails.
			var weight, held int64
			for range 3 {
				w, h := loadDocuments(t, schema, query)
				if h > 0 && (held == 0 || h < held) {
					weight, held = w, h
				}
			}
			if held == 0 {
				t.Fatal("three measurements of the heap found nothing held")
			}
			if weight < held {
				t.Errorf("%d documents weigh %d bytes but hold %d", documentsMeasured, weight, held)
			}
			t.Logf("%d documents weigh %d bytes and hold %d (%.1fx)", documentsMeasured, weight, held, float64(weight)/float64(held))
		})
	}
}

// documentsMeasured is how many copies of a document loadDocuments parses and keeps.
const documentsMeasured = 8

// loadDocuments parses and validates distinct copies of query, as distinct requests bring, and
// returns their weight and the heap they hold (negative when the heap shrank meanwhile).
func loadDocuments(t *testing.T, schema *ast.Schema, query string) (weight, held int64) {
	t.Helper()
	docs := make([]*ast.QueryDocument, documentsMeasured)
	before := heap()
	for i := range docs {
		q := strings.Clone(query)
		doc, err := gqlparser.LoadQuery(schema, q)
		if err != nil {
			t.Fatalf("the document does not validate: %v", err)
		}
		docs[i] = doc
		weight += int64(documentWeight(q, doc))
	}
	held = int64(heap()) - int64(before)
	runtime.KeepAlive(docs)
	return weight, held
}

func repeatf(n int, format string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format+" ", i)
	}
	return b.String()
}

// heap is the memory in use once garbage is collected.
func heap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
