package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/taskql/taskql/internal/guard"
)

// introspectionGate lets an operation introspect the schema only where it is allowed: in development
// mode, for an approved viewer (DESIGN §7). Elsewhere an operation that selects __schema or
// __type is refused as a whole: FORBIDDEN for a viewer whose access is not approved (as
// everything is), GRAPHQL_VALIDATION_FAILED in production.
type introspectionGate struct{ allowed bool }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = introspectionGate{}

func (introspectionGate) ExtensionName() string                   { return "IntrospectionGate" }
func (introspectionGate) Validate(graphql.ExecutableSchema) error { return nil }

func (i introspectionGate) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if i.allowed {
		opCtx.DisableIntrospection = false
		return nil
	}
	if !introspects(opCtx.Doc, opCtx.Operation.SelectionSet) {
		return nil
	}
	refused(ctx, "introspection")
	if v := viewer(ctx); v != nil && !v.IsAccessApproved {
		return refusal(guard.CodeForbidden, "the viewer's access is not approved")
	}
	return refusal(errcode.ValidationFailed, "introspection is disabled on this server")
}

// introspects tells whether a root selection set (validated: no fragment cycles) selects
// __schema or __type.
func introspects(doc *ast.QueryDocument, set ast.SelectionSet) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				return true
			}
		case *ast.InlineFragment:
			if introspects(doc, s.SelectionSet) {
				return true
			}
		case *ast.FragmentSpread:
			if f := doc.Fragments.ForName(s.Name); f != nil && introspects(doc, f.SelectionSet) {
				return true
			}
		}
	}
	return false
}

// validationWithoutSuggestions are gqlparser's rules with every "Did you mean …?" left out: in
// production, and for viewers who may not introspect, error messages do not list the schema's
// names (DESIGN §7).
func validationWithoutSuggestions() *rules.Rules {
	r := rules.NewDefaultRules()
	for _, pair := range []struct{ with, without core.Rule }{
		{rules.FieldsOnCorrectTypeRule, rules.FieldsOnCorrectTypeRuleWithoutSuggestions},
		{rules.KnownArgumentNamesRule, rules.KnownArgumentNamesRuleWithoutSuggestions},
		{rules.KnownTypeNamesRule, rules.KnownTypeNamesRuleWithoutSuggestions},
		{rules.ScalarLeafsRule, rules.ScalarLeafsRuleWithoutSuggestions},
		{rules.ValuesOfCorrectTypeRule, rules.ValuesOfCorrectTypeRuleWithoutSuggestions},
	} {
		r.RemoveRule(pair.with.Name)
		r.AddRule(pair.without.Name, pair.without.RuleFunc)
	}
	return r
}
