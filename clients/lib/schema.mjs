// The schema as clients see it: the SDL of a running taskql's introspection (every option of
// graphql-js's introspection query that gqlgen answers: descriptions, the schema's own,
// deprecated arguments, specifiedBy, repeatable directives, @oneOf).

import { buildClientSchema, getIntrospectionQuery, printSchema } from 'graphql';
import { gql, TOKENS } from './http.mjs';

export async function introspectedSDL(queryUrl) {
  const query = getIntrospectionQuery({
    descriptions: true,
    schemaDescription: true,
    inputValueDeprecation: true,
    specifiedByUrl: true,
    directiveIsRepeatable: true,
    oneOf: true,
  });
  const data = await gql(queryUrl, TOKENS.ada, query);
  return `${printSchema(buildClientSchema(data))}\n`;
}
