// Apollo Client (4, in Node: its core entry, no React) playing a front end's flow: list tasks
// with their assignees, change them with the three mutations, and see each change in the
// normalized cache without a refetch. The root field assignees(taskId:) is a list of its own in
// the cache, so it stays stale after a mutation unless a type policy reads it from the Task: the
// suite shows both. Then the error codes of the API, as Apollo hands them to the caller.

import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { CombinedGraphQLErrors, ServerError } from '@apollo/client/errors';
import { check, codeOf, equal, ids, rejection } from '../lib/check.mjs';
import { boundedFetch, setAssignees, TOKENS } from '../lib/http.mjs';

export const title = 'Apollo Client: normalized cache after mutations, error codes';

const TASK = 'tsk_outbudget'; // in Spring outreach's internal phase "Planning"
const KATHERINE = 'usr_katherine';
const GRACE = 'usr_grace';
const ADA = 'usr_ada';

// What a task list page asks for.
const TASKS = gql`
  query Tasks {
    tasks(first: 50) {
      nodes { id label phase { id name internal } assignee { id } assigneeId assignees { id name } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

// The second REST document's GET, as a root field.
const ASSIGNEES = gql`
  query Assignees($taskId: ID!) {
    assignees(taskId: $taskId) { id name }
  }
`;

// Every mutation asks for the fields the page shows, so that the cache can update the Task.
const TASK_FIELDS = 'id assignee { id } assigneeId assignees { id name }';
const SET = gql`mutation Set($taskId: ID!, $userId: ID) { setTaskAssignee(taskId: $taskId, assignee: $userId) { ${TASK_FIELDS} } }`;
const ASSIGN = gql`mutation Assign($taskId: ID!, $userIds: [ID!]!) { assignUsers(taskId: $taskId, userIds: $userIds) { ${TASK_FIELDS} } }`;
const UNASSIGN = gql`mutation Unassign($taskId: ID!, $userId: ID!) { unassignUser(taskId: $taskId, userId: $userId) { ${TASK_FIELDS} } }`;

const ASSIGNEES_OF_TASK = gql`fragment AssigneesOfTask on Task { assigneeId assignees { id } }`;

// The fix for the stale root field: Query.assignees(taskId:) reads the Task's own assignees
// field from the cache, which every mutation's answer updates. Until the Task is in the cache
// with its assignees, it is what the server answered (existing).
const typePolicies = {
  Query: {
    fields: {
      assignees: {
        read(existing, { args, toReference, readField }) {
          const task = toReference({ __typename: 'Task', id: args.taskId });
          return (task && readField('assignees', task)) ?? existing;
        },
      },
    },
  },
};

// client is an Apollo Client of taskql with a token; requests counts its HTTP requests, to show
// that what the cache answers costs none.
function client(queryUrl, token, policies) {
  const counter = { requests: 0 };
  const fetch = (input, init) => {
    counter.requests++;
    return boundedFetch(input, init);
  };
  const apollo = new ApolloClient({
    link: new HttpLink({ uri: queryUrl, fetch, headers: { Authorization: `Bearer ${token}` } }),
    cache: new InMemoryCache(policies ? { typePolicies: policies } : {}),
  });
  return { apollo, counter };
}

export async function run({ queryUrl, log }) {
  await setAssignees(queryUrl, TASK, [KATHERINE]);

  // 1. Without a type policy: the Task follows the mutation, assignees(taskId:) does not.
  const plain = client(queryUrl, TOKENS.ada);
  await plain.apollo.query({ query: TASKS });
  await plain.apollo.query({ query: ASSIGNEES, variables: { taskId: TASK } });
  await plain.apollo.mutate({ mutation: SET, variables: { taskId: TASK, userId: GRACE } });
  equal(ids(taskInList(plain.apollo).assignees), [GRACE], 'without a type policy, the Task in the cached task list');
  const stale = plain.apollo.readQuery({ query: ASSIGNEES, variables: { taskId: TASK } });
  equal(ids(stale.assignees), [KATHERINE], 'without a type policy, the cached assignees(taskId:) (stale by default)');
  log(`default cache: after setTaskAssignee(${GRACE}) the Task shows [${GRACE}], assignees(taskId:) still [${KATHERINE}] (stale)`);

  // 2. With the type policy, the front end's flow: load, then each mutation, then the cache.
  await setAssignees(queryUrl, TASK, [KATHERINE]);
  const { apollo, counter } = client(queryUrl, TOKENS.ada, typePolicies);
  const { data } = await apollo.query({ query: TASKS });
  check(data.tasks.nodes.length > 0, 'the task list is empty');
  equal(ids(taskInList(apollo).assignees), [KATHERINE], 'the task list as loaded');
  const loaded = await apollo.query({ query: ASSIGNEES, variables: { taskId: TASK } });
  equal(ids(loaded.data.assignees), [KATHERINE], 'assignees(taskId:) as loaded');
  log(`loaded ${data.tasks.nodes.length} tasks; ${TASK}'s assignees [${KATHERINE}]`);

  const steps = [
    ['setTaskAssignee', SET, { taskId: TASK, userId: GRACE }, [GRACE]],
    ['assignUsers', ASSIGN, { taskId: TASK, userIds: [ADA, KATHERINE] }, [GRACE, ADA, KATHERINE]],
    ['unassignUser', UNASSIGN, { taskId: TASK, userId: ADA }, [GRACE, KATHERINE]],
  ];
  for (const [name, mutation, variables, want] of steps) {
    const before = counter.requests;
    const result = await apollo.mutate({ mutation, variables });
    equal(ids(result.data[name].assignees), want, `${name}: the server's answer`);
    seesInCache(apollo, want, name);
    // cache-first answers from the cache: the policy's list is complete, so no request is sent.
    const again = await apollo.query({ query: ASSIGNEES, variables: { taskId: TASK }, fetchPolicy: 'cache-first' });
    equal(ids(again.data.assignees), want, `${name}: client.query(assignees) cache-first`);
    check(counter.requests === before + 1, `${name}: ${counter.requests - before} HTTP requests, want 1 (the mutation, no refetch)`);
    log(`${name}: the cache shows [${want.join(', ')}] in the Task, the task list and assignees(taskId:), with no refetch`);
  }

  // 3. Error codes, as Apollo hands them over.
  await errorCodes(queryUrl, apollo, log);
  // A refused mutation changed nothing in the cache either.
  seesInCache(apollo, [GRACE, KATHERINE], 'after the refused mutations');
  return `3 mutations seen in the cache without a refetch (assignees(taskId:) through a type policy; stale without); ` +
    'UNPROCESSABLE, NOT_FOUND, UNAUTHENTICATED reach the client';
}

// taskInList is TASK as the cached task list holds it.
function taskInList(apollo) {
  const list = apollo.readQuery({ query: TASKS });
  const task = list?.tasks.nodes.find((t) => t.id === TASK);
  check(task, `${TASK} is not in the cached task list`);
  return task;
}

// seesInCache checks the three places a front end reads TASK's assignees from.
function seesInCache(apollo, want, when) {
  const id = apollo.cache.identify({ __typename: 'Task', id: TASK });
  const fragment = apollo.cache.readFragment({ id, fragment: ASSIGNEES_OF_TASK });
  equal(ids(fragment?.assignees), want, `${when}: cache.readFragment of ${id}`);
  equal(fragment.assigneeId, want[0] ?? null, `${when}: the Task's assigneeId in the cache`);
  const inList = taskInList(apollo);
  equal(ids(inList.assignees), want, `${when}: the Task in the cached task list`);
  equal(inList.assignee?.id ?? null, want[0] ?? null, `${when}: the Task's assignee in the cached task list`);
  const root = apollo.readQuery({ query: ASSIGNEES, variables: { taskId: TASK } });
  equal(ids(root?.assignees), want, `${when}: client.readQuery(assignees(taskId:))`);
}

async function errorCodes(queryUrl, apollo, log) {
  // UNPROCESSABLE: Bea is a client user on an internal phase, Alan not a member of the project.
  const refused = await rejection(
    () => apollo.mutate({ mutation: ASSIGN, variables: { taskId: TASK, userIds: ['usr_bea', 'usr_alan'] } }),
    'assignUsers(usr_bea, usr_alan)');
  check(CombinedGraphQLErrors.is(refused), `assignUsers(usr_bea, usr_alan): ${refused}, want CombinedGraphQLErrors`);
  const [e] = refused.errors;
  equal(codeOf(e), 'UNPROCESSABLE', 'assignUsers(usr_bea, usr_alan): code');
  equal(e.extensions.userIds, ['usr_alan', 'usr_bea'], 'assignUsers(usr_bea, usr_alan): extensions.userIds');
  equal(e.extensions.violations, [
    { userId: 'usr_alan', reason: 'NOT_PROJECT_MEMBER' },
    { userId: 'usr_bea', reason: 'NOT_AGENCY_MEMBER' },
  ], 'assignUsers(usr_bea, usr_alan): extensions.violations');
  // With errorPolicy "all", the data comes too: the mutation's field is null.
  const all = await apollo.mutate({ mutation: SET, variables: { taskId: TASK, userId: 'usr_bea' }, errorPolicy: 'all' });
  equal(all.data?.setTaskAssignee ?? null, null, 'setTaskAssignee(usr_bea) errorPolicy all: data');
  equal(all.error?.errors?.map(codeOf), ['UNPROCESSABLE'], 'setTaskAssignee(usr_bea) errorPolicy all: codes');
  equal(all.error.errors[0].extensions.violations, [{ userId: 'usr_bea', reason: 'NOT_AGENCY_MEMBER' }],
    'setTaskAssignee(usr_bea): violations');
  log('UNPROCESSABLE: CombinedGraphQLErrors with extensions.userIds [usr_alan, usr_bea] and their violations');

  // NOT_FOUND: an unknown task, by query (null field and its error) and by mutation.
  const missing = await apollo.query({ query: gql`query Missing { task(id: "tsk_nope") { id } }`, errorPolicy: 'all' });
  equal(missing.data, { task: null }, 'task(id: tsk_nope): data');
  equal(missing.error?.errors?.map(codeOf), ['NOT_FOUND'], 'task(id: tsk_nope): codes');
  const notFound = await rejection(() => apollo.mutate({ mutation: UNASSIGN, variables: { taskId: 'tsk_nope', userId: ADA } }),
    'unassignUser(tsk_nope)');
  check(CombinedGraphQLErrors.is(notFound), `unassignUser(tsk_nope): ${notFound}, want CombinedGraphQLErrors`);
  equal(notFound.errors.map(codeOf), ['NOT_FOUND'], 'unassignUser(tsk_nope): codes');
  log('NOT_FOUND: CombinedGraphQLErrors, with data { task: null } under errorPolicy all');

  // UNAUTHENTICATED: HTTP 401 in application/json (refused before GraphQL runs): Apollo 4 makes
  // any non-2xx application/json answer a ServerError, whose bodyText holds the GraphQL errors.
  const stranger = client(queryUrl, 'not-a-token').apollo;
  const unauth = await rejection(() => stranger.query({ query: TASKS }), 'a bad token');
  check(ServerError.is(unauth), `a bad token: ${unauth}, want ServerError`);
  equal(unauth.statusCode, 401, 'a bad token: statusCode');
  equal(unauth.response.headers.get('www-authenticate'), 'Bearer realm="taskql"', 'a bad token: WWW-Authenticate');
  equal(JSON.parse(unauth.bodyText).errors.map(codeOf), ['UNAUTHENTICATED'], 'a bad token: the codes in bodyText');
  log('UNAUTHENTICATED: ServerError, statusCode 401, the code in bodyText');
}
