package graph_test

import (
	"strings"
	"testing"
)

// introspectionQuery is graphql-js's getIntrospectionQuery with every option on (descriptions,
// specifiedByURL, isRepeatable, the schema's description, deprecated input values, oneOf), the
// largest document an API explorer sends.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    description
    queryType { name kind }
    mutationType { name kind }
    subscriptionType { name kind }
    types { ...FullType }
    directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL isOneOf
  fields(includeDeprecated: true) { name description args(includeDeprecated: true) { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue isDeprecated deprecationReason }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }
}`

// DESIGN §7: the limits refuse abuse, not the queries clients need. The page query of DESIGN §4
// at first: 100 and GraphiQL's introspection pass; a connection nested three deep at first: 100
// does not.
func TestTheLimitsLetThroughWhatClientsNeed(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		a.post(tokAdmin, `{ tasks(first: 100) {
			edges { cursor node { id label description type status createdAt modifiedAt
				phase { id name position internal }
				assignees { id name firstName lastName email avatar }
				assignee { id name } assigneeId
				project { id name } } }
			nodes { id }
			pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount } }`, nil).ok()
		r := a.post(tokAdmin, introspectionQuery, nil)
		r.ok()
		if !strings.Contains(string(r.Data), `"name":"setTaskAssignee"`) {
			t.Errorf("the introspection does not show the schema: %.300s", r.Data)
		}
		nested := `{ tasks(first: 100) { nodes { project { tasks(first: 100) { nodes { project {
			tasks(first: 100) { nodes { id } } } } } } } } }`
		if got := a.post(tokAdmin, nested, nil).codes(); len(got) != 1 || got[0] != "COMPLEXITY_LIMIT_EXCEEDED" {
			t.Errorf("three connections nested at first: 100: codes %v, want [COMPLEXITY_LIMIT_EXCEEDED]", got)
		}
	})
}
