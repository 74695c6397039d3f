package graph

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/maypok86/otter/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/taskql/taskql/model"
)

// The fast path (docs/PERFORMANCE.md): a query made only of fields whose values its root
// resolvers' look-ahead reads already hold (a task's columns, its phase, its assignees, a page's
// edges and cursors) is written as JSON straight from the structs those resolvers return, without
// gqlgen's executor: no field context, goroutine or marshaler per field. Everything before
// execution is gqlgen's as for any document (transports, persisted documents, parsing,
// validation, limits, complexity), and so is every document that holds anything else. The fast
// path writes the bytes gqlgen would (graph/fast_test.go compares them, document by document); it
// never answers an error itself: a resolver's error, or a value gqlgen would refuse, hands the
// whole operation back to gqlgen, which runs it again and answers as it always does.

// fastSchema is the generated schema with the fast path in front of its execution of queries.
type fastSchema struct {
	*executableSchema
	plans  *plans
	served *atomic.Int64 // how many operations it answered
}

// errNotFast stops the fast path for a value it does not write; gqlgen then runs the operation.
var errNotFast = errors.New("graph: not served by the fast path")

func (s fastSchema) Exec(ctx context.Context) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation.Operation != ast.Query {
		return s.executableSchema.Exec(ctx)
	}
	root, ok := s.plans.of(oc, s.Resolvers)
	if !ok {
		return s.executableSchema.Exec(ctx)
	}
	ec := newExecutionContext(oc, s.executableSchema, nil)
	var slow graphql.ResponseHandler
	done := false
	return func(ctx context.Context) *graphql.Response {
		if slow != nil {
			return slow(ctx)
		}
		if done {
			return nil
		}
		done = true
		ctx = graphql.WithLazyInputUnmarshalerIndex(ctx, func() *graphql.InputUnmarshalerIndex {
			return graphql.NewInputUnmarshalerIndex(
				graphql.NewInputUnmarshaler("TaskFilter", ec.unmarshalInputTaskFilter),
				graphql.NewInputUnmarshaler("UserFilter", ec.unmarshalInputUserFilter),
			)
		})
		o := &out{ctx: ctx, ec: ec, b: make([]byte, 0, 1024)}
		if err := o.run(root); err != nil {
			slow = s.executableSchema.Exec(ctx)
			return slow(ctx)
		}
		s.served.Add(1)
		return &graphql.Response{Data: o.b}
	}
}

// plans keeps what each operation compiled to, so that a document asked for again is not
// compiled again; an operation with directives (@include, @skip), whose fields depend on its
// variables, is compiled for each request. A plan holds its document (the fields it writes point
// into it), so plans are weighed by their documents' size, as the document cache weighs documents.
type plans struct {
	kept *otter.Cache[*ast.OperationDefinition, plan]
}

const plansBytes = 4 << 20

type plan struct {
	root  object[queryValue]
	ok    bool   // whether the fast path serves the operation
	bytes uint32 // the size of its document's text
}

func newPlans() *plans {
	return &plans{kept: otter.Must(&otter.Options[*ast.OperationDefinition, plan]{
		MaximumWeight: plansBytes,
		Weigher:       func(_ *ast.OperationDefinition, p plan) uint32 { return p.bytes },
	})}
}

func (p *plans) of(oc *graphql.OperationContext, resolvers ResolverRoot) (object[queryValue], bool) {
	if pl, found := p.kept.GetIfPresent(oc.Operation); found {
		return pl.root, pl.ok
	}
	c := &compiler{oc: oc, resolvers: resolvers}
	root, ok := compile(c, oc.Operation.SelectionSet, "Query", queryImplementors, queryWriters)
	if size := len(oc.RawQuery); size <= plansBytes/16 && !usesDirectives(oc.Operation.SelectionSet) {
		p.kept.Set(oc.Operation, plan{root, ok, uint32(size) + 1})
	}
	return root, ok
}

// usesDirectives tells whether a selection, or a fragment it spreads, has a directive.
func usesDirectives(sel ast.SelectionSet) bool {
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if len(s.Directives) > 0 || usesDirectives(s.SelectionSet) {
				return true
			}
		case *ast.InlineFragment:
			if len(s.Directives) > 0 || usesDirectives(s.SelectionSet) {
				return true
			}
		case *ast.FragmentSpread:
			if len(s.Directives) > 0 || s.Definition == nil || len(s.Definition.Directives) > 0 ||
				usesDirectives(s.Definition.SelectionSet) {
				return true
			}
		}
	}
	return false
}

// out is the answer being written, the context of the operation for the resolvers that run while
// it is, and its execution context (for its arguments).
type out struct {
	ctx context.Context
	ec  *executionContext
	b   []byte
}

// run writes the operation's data; a panic in a resolver is an error, on which gqlgen runs the
// operation again and recovers from it as it does (the field null, an error at its path).
func (o *out) run(root object[queryValue]) (err error) {
	defer func() {
		if recover() != nil {
			err = errNotFast
		}
	}()
	return root.write(o, &queryValue{})
}

func (o *out) raw(s string) { o.b = append(o.b, s...) }

// str writes a String as gqlgen does (graphql.MarshalString): quotes, backslash and control
// characters escaped, anything else as it is.
func (o *out) str(s string) {
	o.b = append(o.b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		o.b = append(o.b, s[start:i]...)
		switch c {
		case '\t':
			o.b = append(o.b, `\t`...)
		case '\r':
			o.b = append(o.b, `\r`...)
		case '\n':
			o.b = append(o.b, `\n`...)
		case '\\', '"':
			o.b = append(o.b, '\\', c)
		default:
			o.b = append(o.b, `\u00`...)
			o.b = append(o.b, "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&0xf])
		}
		start = i + 1
	}
	o.b = append(o.b, s[start:]...)
	o.b = append(o.b, '"')
}

// optStr writes a nullable String.
func (o *out) optStr(s *string) {
	if s == nil {
		o.raw("null")
		return
	}
	o.str(*s)
}

// quoted writes an id or an enum value as their MarshalGQL does (strconv.Quote).
func (o *out) quoted(s string) { o.b = strconv.AppendQuote(o.b, s) }

func (o *out) boolean(v bool) { o.b = strconv.AppendBool(o.b, v) }

func (o *out) int(v int) { o.b = strconv.AppendInt(o.b, int64(v), 10) }

// time writes a Time! as graphql.MarshalTime does; the zero time, which it answers with null,
// gqlgen refuses in a non-null field.
func (o *out) time(t time.Time) error {
	if t.IsZero() {
		return errNotFast
	}
	o.b = append(o.b, '"')
	o.b = t.AppendFormat(o.b, time.RFC3339Nano)
	o.b = append(o.b, '"')
	return nil
}

// json writes a JSON scalar, null when it is empty.
func (o *out) json(j model.JSON) { j.MarshalGQL(o) }

func (o *out) Write(p []byte) (int, error) {
	o.b = append(o.b, p...)
	return len(p), nil
}

// field writes one entry of an object of type T: its key (the alias), then its value.
type field[T any] struct {
	key   string
	value func(o *out, v *T) error
}

// object is the selection of an object of type T, as collected (fragments spread, @skip and
// @include applied, fields merged).
type object[T any] []field[T]

func (obj object[T]) write(o *out, v *T) error {
	o.b = append(o.b, '{')
	for i, f := range obj {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = append(o.b, f.key...)
		if err := f.value(o, v); err != nil {
			return err
		}
	}
	o.b = append(o.b, '}')
	return nil
}

// value writes an object field's value v, read with err: null when v is nil and the field
// nullable; a nil for a non-null field (gqlgen's error) or err stops the fast path.
func (obj object[T]) value(o *out, v *T, err error, nullable bool) error {
	switch {
	case err != nil:
		return err
	case v == nil && nullable:
		o.raw("null")
		return nil
	case v == nil:
		return errNotFast
	}
	return obj.write(o, v)
}

// list writes a non-null list of non-null objects.
func list[T any](o *out, items []*T, obj object[T]) error {
	o.b = append(o.b, '[')
	for i, item := range items {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		if item == nil {
			return errNotFast
		}
		if err := obj.write(o, item); err != nil {
			return err
		}
	}
	o.b = append(o.b, ']')
	return nil
}

// compiler turns the selections of one operation into objects.
type compiler struct {
	oc        *graphql.OperationContext
	resolvers ResolverRoot
}

// fields are how each field of a type the fast path serves is written, made from the field as
// collected; a field missing here, or whose maker answers false, is not served.
type fields[T any] map[string]func(c *compiler, f graphql.CollectedField) (func(o *out, v *T) error, bool)

// compile collects a selection on the type typ (which satisfies those names) and makes its object.
func compile[T any](c *compiler, sel ast.SelectionSet, typ string, satisfies []string, table fields[T]) (object[T], bool) {
	collected := graphql.CollectFields(c.oc, sel, satisfies)
	obj := make(object[T], 0, len(collected))
	for _, f := range collected {
		if len(f.Deferrables) > 0 {
			return nil, false
		}
		key := `"` + f.Alias + `":`
		if f.Name == "__typename" {
			name := `"` + typ + `"`
			obj = append(obj, field[T]{key, func(o *out, _ *T) error { o.raw(name); return nil }})
			continue
		}
		maker, ok := table[f.Name]
		if !ok {
			return nil, false
		}
		value, ok := maker(c, f)
		if !ok {
			return nil, false
		}
		obj = append(obj, field[T]{key, value})
	}
	return obj, true
}
