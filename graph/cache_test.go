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
			const n = 8
			docs := make([]*ast.QueryDocument, n)
			var weight uint64
			before := heap()
			for i := range docs {
				// A distinct copy of the text each time, as distinct requests bring.
				q := strings.Clone(query)
				doc, err := gqlparser.LoadQuery(schema, q)
				if err != nil {
					t.Fatalf("the document does not validate: %v", err)
				}
				docs[i] = doc
				weight += uint64(documentWeight(q, doc))
			}
			held := heap() - before
			runtime.KeepAlive(docs)
			if weight < held {
				t.Errorf("%d documents weigh %d bytes but hold %d", n, weight, held)
			}
			t.Logf("%d documents weigh %d bytes and hold %d (%.1fx)", n, weight, held, float64(weight)/float64(held))
		})
	}
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
