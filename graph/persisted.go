package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/99designs/gqlgen/graphql"
	"github.com/maypok86/otter/v2"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// apqCacheBytes bounds the memory of the query texts registered by automatic persisted queries.
const apqCacheBytes = 4 << 20

// textCache is a cache of query texts by hash, bounded in bytes (gqlgen's LRU counts entries,
// and one entry may be a megabyte).
type textCache struct {
	texts *otter.Cache[string, string]
}

func newTextCache(maxBytes uint64) *textCache {
	return &textCache{texts: otter.Must(&otter.Options[string, string]{
		MaximumWeight: maxBytes,
		Weigher: func(hash, query string) uint32 {
			return uint32(min(uint64(len(hash)+len(query)), math.MaxUint32))
		},
	})}
}

var _ graphql.Cache[string] = (*textCache)(nil)

func (c *textCache) Get(_ context.Context, hash string) (string, bool) {
	return c.texts.GetIfPresent(hash)
}
func (c *textCache) Add(_ context.Context, hash, query string) { c.texts.Set(hash, query) }

// codePersistedQueryNotFound is the code of an operation the server does not know by its hash
// (DESIGN §3), gqlgen's and Apollo's.
const codePersistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"

// TrustedDocuments are the only operations a server in trusted-documents mode runs (DESIGN §7),
// by the SHA-256 of their text.
type TrustedDocuments struct {
	byHash map[string]string
	texts  map[string]bool
}

// ReadTrustedDocuments reads a trusted-documents file: either a JSON object from hash to document
// (GraphQL Code Generator's persisted-documents.json) or an Apollo persisted query manifest
// ({"format": "apollo-persisted-query-manifest", "operations": [{"id", "body", ...}]}). Every
// hash must be the hex SHA-256 of its document, as both tools make it by default.
func ReadTrustedDocuments(r io.Reader) (*TrustedDocuments, error) {
	var raw struct {
		Format     string `json:"format"`
		Operations []struct {
			ID   string `json:"id"`
			Body string `json:"body"`
		} `json:"operations"`
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	docs := map[string]string{}
	if err := json.Unmarshal(data, &raw); err == nil && raw.Format != "" {
		for _, op := range raw.Operations {
			docs[op.ID] = op.Body
		}
	} else if err := json.Unmarshal(data, &docs); err != nil {
		return nil, fmt.Errorf("trusted documents: want an object from hash to document, or an Apollo manifest: %w", err)
	}
	t := &TrustedDocuments{byHash: make(map[string]string, len(docs)), texts: make(map[string]bool, len(docs))}
	for hash, doc := range docs {
		if queryHash(doc) != hash {
			return nil, fmt.Errorf("trusted documents: %s is not the SHA-256 of its document", hash)
		}
		t.byHash[hash], t.texts[doc] = doc, true
	}
	return t, nil
}

// Len is the number of trusted documents.
func (t *TrustedDocuments) Len() int { return len(t.byHash) }

func queryHash(query string) string {
	sum := sha256.Sum256([]byte(query))
	return hex.EncodeToString(sum[:])
}

// trusted runs only the trusted documents: a request names one by its hash, as automatic persisted
// queries do (extensions.persistedQuery.sha256Hash), or sends its text; anything else is
// PERSISTED_QUERY_NOT_FOUND. It replaces automatic persisted queries, which would let a client
// register any document.
type trusted struct{ docs *TrustedDocuments }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = trusted{}

func (trusted) ExtensionName() string                   { return "TrustedDocuments" }
func (trusted) Validate(graphql.ExecutableSchema) error { return nil }

func (t trusted) MutateOperationParameters(_ context.Context, raw *graphql.RawParams) *gqlerror.Error {
	if raw.Query != "" {
		if t.docs.texts[raw.Query] {
			return nil
		}
		return refusal(codePersistedQueryNotFound, "the operation is not one of the server's trusted documents")
	}
	pq, _ := raw.Extensions["persistedQuery"].(map[string]any)
	hash, _ := pq["sha256Hash"].(string)
	doc, ok := t.docs.byHash[hash]
	if !ok {
		return refusal(codePersistedQueryNotFound, "PersistedQueryNotFound")
	}
	raw.Query = doc
	return nil
}
