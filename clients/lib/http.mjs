// Plain HTTP to taskql, for what the suites set up and check outside the client under test.

import { Failure } from './check.mjs';

export const HTTP_TIMEOUT_MS = 10_000; // the server's own deadline is 10 s

// The demo world's tokens (internal/seed/demo.go).
export const TOKENS = {
  ada: 'demo-ada-token', // org admin of the agency: sees everything of Acme
  grace: 'demo-grace-token',
};

// boundedFetch is fetch that gives up after HTTP_TIMEOUT_MS, unless the caller set its own signal.
export function boundedFetch(input, init = {}) {
  return fetch(input, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS), ...init });
}

// authorizedFetch is boundedFetch with `Authorization: Bearer token` added to every request.
export function authorizedFetch(token) {
  return (input, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('Authorization', `Bearer ${token}`);
    return boundedFetch(input, { ...init, headers });
  };
}

// gql posts an operation and returns its data, failing on any error.
export async function gql(queryUrl, token, query, variables = {}) {
  const res = await authorizedFetch(token)(queryUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Failure(`POST ${queryUrl}: HTTP ${res.status}, not JSON: ${text.slice(0, 300)}`);
  }
  if (res.status !== 200 || body.errors) {
    throw new Failure(`POST ${queryUrl} ${query.replace(/\s+/g, ' ')}: HTTP ${res.status} ${text.slice(0, 500)}`);
  }
  return body.data;
}

// setAssignees makes a task's assignees exactly these users, in this order (one call each: the
// users of one call are ordered by id), as Ada, so that a suite starts from a known state and
// can run again on the same database.
export async function setAssignees(queryUrl, taskId, userIds) {
  const [first, ...rest] = userIds;
  await gql(queryUrl, TOKENS.ada, 'mutation($t: ID!, $u: ID) { setTaskAssignee(taskId: $t, assignee: $u) { id } }',
    { t: taskId, u: first ?? null });
  for (const user of rest) {
    await gql(queryUrl, TOKENS.ada, 'mutation($t: ID!, $u: [ID!]!) { assignUsers(taskId: $t, userIds: $u) { id } }',
      { t: taskId, u: [user] });
  }
}
