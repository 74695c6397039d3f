// graphql-request (7), the small promise-based client: the same error codes reach it as reach
// Apollo Client. It sends Accept: application/graphql-response+json, application/json, so
// taskql answers in application/graphql-response+json, and it parses the GraphQL errors of a
// non-2xx answer too (ClientError.response).

import { ClientError, GraphQLClient, gql } from 'graphql-request';
import { check, codeOf, equal, ids, rejection } from '../lib/check.mjs';
import { boundedFetch, setAssignees, TOKENS } from '../lib/http.mjs';

export const title = 'graphql-request: data and error codes';

const TASK = 'tsk_outbudget';

const ASSIGN = gql`
  mutation Assign($taskId: ID!, $userIds: [ID!]!) {
    assignUsers(taskId: $taskId, userIds: $userIds) { id assignees { id } }
  }
`;

function client(queryUrl, token) {
  return new GraphQLClient(queryUrl, { headers: { Authorization: `Bearer ${token}` }, fetch: boundedFetch });
}

// clientError runs fn, which must fail with a ClientError, and returns its response.
async function clientError(fn, what) {
  const err = await rejection(fn, what);
  check(err instanceof ClientError, `${what}: ${err}, want a ClientError`);
  return err.response;
}

export async function run({ queryUrl, log }) {
  await setAssignees(queryUrl, TASK, ['usr_katherine']);
  const ada = client(queryUrl, TOKENS.ada);

  const ok = await ada.rawRequest(ASSIGN, { taskId: TASK, userIds: ['usr_grace'] });
  equal(ok.status, 200, 'assignUsers(usr_grace): status');
  check(ok.headers.get('content-type')?.startsWith('application/graphql-response+json'),
    `assignUsers(usr_grace): Content-Type ${ok.headers.get('content-type')}, want application/graphql-response+json`);
  equal(ids(ok.data.assignUsers.assignees), ['usr_katherine', 'usr_grace'], 'assignUsers(usr_grace): assignees');

  // UNPROCESSABLE, with every offending user and why.
  let res = await clientError(() => ada.request(ASSIGN, { taskId: TASK, userIds: ['usr_bea', 'usr_alan'] }),
    'assignUsers(usr_bea, usr_alan)');
  equal(res.status, 200, 'UNPROCESSABLE: status');
  equal(res.data, { assignUsers: null }, 'UNPROCESSABLE: data');
  equal(res.errors.map(codeOf), ['UNPROCESSABLE'], 'UNPROCESSABLE: codes');
  equal(res.errors[0].extensions.userIds, ['usr_alan', 'usr_bea'], 'UNPROCESSABLE: extensions.userIds');
  equal(res.errors[0].extensions.violations, [
    { userId: 'usr_alan', reason: 'NOT_PROJECT_MEMBER' },
    { userId: 'usr_bea', reason: 'NOT_AGENCY_MEMBER' },
  ], 'UNPROCESSABLE: extensions.violations');
  log('UNPROCESSABLE: ClientError, status 200, data { assignUsers: null }, userIds and violations');

  // NOT_FOUND: an unknown task; errorPolicy "all" returns the data and the errors.
  res = await clientError(() => ada.request(ASSIGN, { taskId: 'tsk_nope', userIds: ['usr_grace'] }), 'assignUsers(tsk_nope)');
  equal(res.errors.map(codeOf), ['NOT_FOUND'], 'NOT_FOUND: codes');
  const lenient = new GraphQLClient(queryUrl, { headers: { Authorization: `Bearer ${TOKENS.ada}` }, fetch: boundedFetch, errorPolicy: 'all' });
  const partial = await lenient.rawRequest(gql`{ viewer { id } task(id: "tsk_nope") { id } }`);
  equal(partial.data, { viewer: { id: 'usr_ada' }, task: null }, 'NOT_FOUND with errorPolicy all: data');
  equal(partial.errors?.map(codeOf), ['NOT_FOUND'], 'NOT_FOUND with errorPolicy all: codes');
  log('NOT_FOUND: ClientError; with errorPolicy all, data { viewer, task: null } and the error');

  // UNAUTHENTICATED: HTTP 401, its errors parsed from the body.
  res = await clientError(() => client(queryUrl, 'not-a-token').request(gql`{ viewer { id } }`), 'a bad token');
  equal(res.status, 401, 'UNAUTHENTICATED: status');
  equal(res.errors?.map(codeOf), ['UNAUTHENTICATED'], 'UNAUTHENTICATED: codes');
  log('UNAUTHENTICATED: ClientError, status 401, the code in response.errors');

  // A document that does not validate: 400 in application/graphql-response+json, without data.
  res = await clientError(() => ada.request(gql`{ viewer { password } }`), 'an unknown field');
  equal(res.status, 400, 'GRAPHQL_VALIDATION_FAILED: status');
  equal(res.errors?.map(codeOf), ['GRAPHQL_VALIDATION_FAILED'], 'GRAPHQL_VALIDATION_FAILED: codes');
  check(!('data' in JSON.parse(res.body)), `GRAPHQL_VALIDATION_FAILED: the body has a data entry: ${res.body}`);
  log('GRAPHQL_VALIDATION_FAILED: ClientError, status 400, no data entry');
  return 'UNPROCESSABLE (userIds, violations), NOT_FOUND, UNAUTHENTICATED (401), GRAPHQL_VALIDATION_FAILED (400) reach the client';
}
