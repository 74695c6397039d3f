package model

import (
	"bytes"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"io"
)

// JSON is a JSON document kept as its text, as it was given: a json column on PostgreSQL (not
// jsonb, which would reorder keys and drop spaces), text on SQLite, and the GraphQL scalar JSON.
// A nil JSON is null.
type JSON json.RawMessage

// MarshalGQL writes the document as it is, keys, their order and escapes alike, without the
// spaces between its tokens (which are not part of it, and would be the only spaces in a
// response). Text that is not JSON, which nothing stores, is written as null: a response stays
// JSON whatever a column holds.
func (j JSON) MarshalGQL(w io.Writer) {
	if len(j) == 0 {
		_, _ = io.WriteString(w, "null")
		return
	}
	var b bytes.Buffer
	if err := json.Compact(&b, j); err != nil {
		_, _ = io.WriteString(w, "null")
		return
	}
	_, _ = b.WriteTo(w)
}

// UnmarshalGQL takes any GraphQL input value as a JSON document.
func (j *JSON) UnmarshalGQL(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("JSON: %w", err)
	}
	*j = b
	return nil
}

// MarshalJSON writes the document as it is.
func (j JSON) MarshalJSON() ([]byte, error) {
	if len(j) == 0 {
		return []byte("null"), nil
	}
	return j, nil
}

// UnmarshalJSON keeps a copy of the document; null becomes nil.
func (j *JSON) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*j = nil
		return nil
	}
	*j = append((*j)[:0], b...)
	return nil
}

// Value stores the document as text; nil as SQL NULL.
func (j JSON) Value() (driver.Value, error) {
	if len(j) == 0 {
		return nil, nil
	}
	return string(j), nil
}

// Scan reads a document stored as text or bytes.
func (j *JSON) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*j = nil
	case []byte:
		*j = append(JSON(nil), v...)
	case string:
		*j = JSON(v)
	default:
		return fmt.Errorf("scan JSON from %T", src)
	}
	return nil
}
