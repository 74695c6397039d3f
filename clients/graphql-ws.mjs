// taskql's subscriptions (DESIGN §4) heard by the real npm graphql-ws client, across two server
// processes: changes are made through server A over plain HTTP, and must reach a subscriber of
// server B over WebSocket (graphql-transport-ws). Run by realtime_clients_test.go; see README.md
// to run it alone.
//
//   node graphql-ws.mjs URL_A URL_B [--token T] [--actor-token T] [--task ID] [--spare-task ID] [--spare-user ID]
//
// Exits 0 when everything held, 1 with "FAIL: …" on stderr otherwise, 2 on bad arguments; the
// whole run is bounded by 60 s.

import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const GLOBAL_TIMEOUT_MS = 60_000;
const HTTP_TIMEOUT_MS = 10_000;
const MESSAGE_TIMEOUT_MS = 10_000; // for each expected message
const SUBSCRIBED_TIMEOUT_MS = 10_000; // for the server to hold a subscription

const usage = `usage: node graphql-ws.mjs URL_A URL_B [options]
  URL_A, URL_B         base URLs of two taskql servers on one database (env TASKQL_URL_A, TASKQL_URL_B),
                       e.g. http://127.0.0.1:8080; they may be the same server
  --token T            an org admin's token: the subscriber on B (env TASKQL_TOKEN, default demo-ada-token)
  --actor-token T      who makes the changes through A (env TASKQL_ACTOR_TOKEN, default demo-grace-token)
  --task ID            the task changed, whose project takes Ada, Grace and Katherine
                       (env TASKQL_TASK, default tsk_outbudget)
  --spare-task ID      the task toggled to learn that a subscription is held (default tsk_outcontacts)
  --spare-user ID      the user toggled on it (default usr_grace)
The demo world's defaults: Ada (org admin) subscribes; Grace assigns Ada, Grace and Katherine on
tsk_outbudget (an internal phase of Spring outreach) and toggles herself on tsk_outcontacts.`;

let args;
try {
  args = parseArgs({
    allowPositionals: true,
    options: {
      token: { type: 'string' },
      'actor-token': { type: 'string' },
      task: { type: 'string' },
      'spare-task': { type: 'string' },
      'spare-user': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (err) {
  console.error(`${err.message}\n${usage}`);
  process.exit(2);
}
if (args.values.help) {
  console.log(usage);
  process.exit(0);
}
const env = process.env;
const baseA = trimSlash(args.positionals[0] ?? env.TASKQL_URL_A);
const baseB = trimSlash(args.positionals[1] ?? env.TASKQL_URL_B);
if (!baseA || !baseB || args.positionals.length > 2) {
  console.error(usage);
  process.exit(2);
}
const token = args.values.token ?? env.TASKQL_TOKEN ?? 'demo-ada-token';
const actorToken = args.values['actor-token'] ?? env.TASKQL_ACTOR_TOKEN ?? 'demo-grace-token';
const task = args.values.task ?? env.TASKQL_TASK ?? 'tsk_outbudget';
const spareTask = args.values['spare-task'] ?? 'tsk_outcontacts';
const spareUser = args.values['spare-user'] ?? 'usr_grace';
const queryA = `${baseA}/query`;
const wsB = `${baseB.replace(/^http/, 'ws')}/query`;

function trimSlash(s) {
  return s ? s.replace(/\/+$/, '') : s;
}

// ---- bounded everything -------------------------------------------------------------------

const clients = []; // disposed at the end, whatever happens

const globalTimer = setTimeout(() => {
  fail(`the run took more than ${GLOBAL_TIMEOUT_MS / 1000} s`);
}, GLOBAL_TIMEOUT_MS);

class Failure extends Error {}

function check(ok, message) {
  if (!ok) throw new Failure(message);
}

function fail(message) {
  console.error(`FAIL: ${message}`);
  finish(1);
}

let finishing = false;
function finish(code) {
  if (finishing) return;
  finishing = true;
  clearTimeout(globalTimer);
  for (const c of clients) {
    c.dispose()?.catch?.(() => {}); // a normal close (1000) of whatever is still open
  }
  // Let stdout and stderr flush, then go, whatever still holds the event loop.
  setTimeout(() => process.exit(code), 50).unref();
  process.exitCode = code;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const ms = (x) => `${x.toFixed(1)} ms`;

// ---- plain HTTP to A --------------------------------------------------------------------------

// gql posts a GraphQL operation to A and returns its data, failing on any error; answeredAt is
// when the whole answer was read.
async function gql(tok, query, variables = {}) {
  let res;
  try {
    res = await fetch(queryA, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${tok}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
  } catch (err) {
    throw new Failure(`POST ${queryA}: ${err.cause?.message ?? err.message}`);
  }
  const text = await res.text();
  const answeredAt = performance.now();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Failure(`POST ${queryA}: HTTP ${res.status}, not JSON: ${text.slice(0, 300)}`);
  }
  if (res.status !== 200 || body.errors) {
    throw new Failure(`POST ${queryA} ${oneLine(query)}: HTTP ${res.status} ${text.slice(0, 500)}`);
  }
  return { data: body.data, answeredAt };
}

function oneLine(s) {
  return s.replace(/\s+/g, ' ').trim();
}

// eventIDs are the ids of a task's events through A, oldest first.
async function eventIDs(taskId) {
  const ids = [];
  let after = null;
  for (let page = 0; page < 100; page++) {
    const { data } = await gql(
      token,
      `query($task: ID!, $after: String) { task(id: $task) { events(first: 100, after: $after) {
        nodes { id } pageInfo { hasNextPage endCursor } } } }`,
      { task: taskId, after },
    );
    check(data.task, `task ${taskId} is not visible to the subscriber's token`);
    ids.push(...data.task.events.nodes.map((n) => n.id));
    if (!data.task.events.pageInfo.hasNextPage) return ids;
    after = data.task.events.pageInfo.endCursor;
  }
  throw new Failure(`task ${taskId} has more than 10,000 events`);
}

const TASK_FIELDS = 'id assignees { id }';
const mutations = {
  assignUsers: (taskId, userIds) => [
    `mutation($task: ID!, $users: [ID!]!) { assignUsers(taskId: $task, userIds: $users) { ${TASK_FIELDS} } }`,
    { task: taskId, users: userIds },
  ],
  unassignUser: (taskId, userId) => [
    `mutation($task: ID!, $user: ID!) { unassignUser(taskId: $task, userId: $user) { ${TASK_FIELDS} } }`,
    { task: taskId, user: userId },
  ],
  setTaskAssignee: (taskId, userId) => [
    `mutation($task: ID!, $user: ID) { setTaskAssignee(taskId: $task, assignee: $user) { ${TASK_FIELDS} } }`,
    { task: taskId, user: userId },
  ],
};

// mutate runs one of the three mutations through A as the actor; it returns the task's assignees
// after it and when its answer was read.
async function mutate(name, ...mutationArgs) {
  const [query, variables] = mutations[name](...mutationArgs);
  const { data, answeredAt } = await gql(actorToken, query, variables);
  check(data[name], `${name}: no task in the answer`);
  return { assignees: data[name].assignees.map((u) => u.id), answeredAt };
}

// ---- subscriptions on B ---------------------------------------------------------------------

const CHANGES = `subscription($task: ID, $project: ID) { taskAssigneesChanged(taskId: $task, projectId: $project) {
  id task { id assignees { id } } added { id } removed { id } actor { id } at } }`;

// Inbox keeps what a subscription received, with the time each message arrived, and hands
// messages to bounded waits, each at most once.
class Inbox {
  constructor(name) {
    this.name = name;
    this.messages = []; // { change, at, used }
    this.waiters = new Set();
    this.ended = null; // why the subscription ended
  }
  push(result) {
    const at = performance.now();
    if (result.errors) {
      this.end(`an error message: ${JSON.stringify(result.errors)}`);
      return;
    }
    this.messages.push({ change: result.data.taskAssigneesChanged, at, used: false });
    for (const w of [...this.waiters]) w();
  }
  end(why) {
    this.ended ??= why;
    for (const w of [...this.waiters]) w();
  }
  // take returns the first unused message that pred accepts, marking it used, or null.
  take(pred) {
    const m = this.messages.find((x) => !x.used && pred(x.change));
    if (m) m.used = true;
    return m ?? null;
  }
  // waitFor waits at most timeout ms for a message that pred accepts.
  waitFor(pred, timeout, what) {
    return new Promise((resolve, reject) => {
      const done = (fn, v) => {
        clearTimeout(timer);
        this.waiters.delete(look);
        fn(v);
      };
      const look = () => {
        const m = this.take(pred);
        if (m) return done(resolve, m);
        if (this.ended) done(reject, new Failure(`${this.name}: waiting for ${what}: the subscription ended (${this.ended})`));
      };
      const timer = setTimeout(() => {
        const seen = this.messages.map((x) => `${x.change.task.id}/${x.change.id}`).join(', ') || 'none';
        done(reject, new Failure(`${this.name}: no ${what} within ${timeout} ms (messages so far: ${seen})`));
      }, timeout);
      this.waiters.add(look);
      look();
    });
  }
}

// subscribe starts a subscription on client and returns its inbox.
function subscribe(client, name, variables = {}) {
  const inbox = new Inbox(name);
  const unsubscribe = client.subscribe(
    { query: CHANGES, variables },
    {
      next: (result) => inbox.push(result),
      error: (err) => inbox.end(`error: ${describe(err)}`),
      complete: () => inbox.end('completed by the server'),
    },
  );
  inbox.unsubscribe = unsubscribe;
  return inbox;
}

function describe(err) {
  if (err && typeof err === 'object' && 'code' in err && 'reason' in err) return `close ${err.code} ${err.reason}`;
  if (Array.isArray(err)) return JSON.stringify(err);
  return err?.message ?? String(err);
}

// connect makes a graphql-ws client of B with the token, recording its events; it is disposed
// at the end.
function connect(tok, extra = {}) {
  const events = { opened: [], connected: [], closed: [], pings: [], pongs: [], errors: [] };
  const client = createClient({
    url: wsB,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${tok}` },
    lazy: false,
    retryAttempts: 0,
    onNonLazyError: (err) => events.errors.push(describe(err)),
    ...extra,
    on: {
      opened: () => events.opened.push(performance.now()),
      connected: () => events.connected.push(performance.now()),
      closed: (ev) => events.closed.push({ code: ev.code, reason: ev.reason, at: performance.now() }),
      ping: (received) => events.pings.push({ received, at: performance.now() }),
      pong: (received) => events.pongs.push({ received, at: performance.now() }),
    },
  });
  clients.push(client);
  return { client, events };
}

// until waits, polling, at most timeout ms for cond.
async function until(cond, timeout, what) {
  const end = performance.now() + timeout;
  while (!cond()) {
    if (performance.now() > end) throw new Failure(`no ${what} within ${timeout} ms`);
    await sleep(5);
  }
}

// heldBy toggles the spare user on the spare task through A until a message of it reaches
// inbox: the server then holds the subscription (graphql-ws has no "subscribed" event, and a
// change made before a subscription is held is rightly not delivered). Returns the first such
// message. Leaves the spare user unassigned.
async function heldBy(inbox) {
  const end = performance.now() + SUBSCRIBED_TIMEOUT_MS;
  let assign = true;
  let changes = 0;
  try {
    for (;;) {
      await mutate(assign ? 'assignUsers' : 'unassignUser', spareTask, assign ? [spareUser] : spareUser);
      changes++;
      assign = !assign;
      const left = end - performance.now();
      if (left <= 0) break;
      try {
        return await inbox.waitFor((c) => c.task.id === spareTask, Math.min(250, left), `a change of ${spareTask}`);
      } catch (err) {
        if (inbox.ended) throw err;
      }
    }
    throw new Failure(`${inbox.name}: no change of ${spareTask} arrived within ${SUBSCRIBED_TIMEOUT_MS} ms ` +
      `of toggling ${spareUser} on it through A (${changes} changes): the subscription is not held, ` +
      `or B does not hear A's changes`);
  } finally {
    if (!assign) await mutate('unassignUser', spareTask, spareUser);
  }
}

const sorted = (xs) => [...xs].sort().join(',');
const idsOf = (users) => users.map((u) => u.id);

// ---- the run ------------------------------------------------------------------------------

async function main() {
  const started = performance.now();
  const subscriber = (await gql(token, '{ viewer { id isOrgAdmin } }')).data.viewer;
  const actor = (await gql(actorToken, '{ viewer { id } }')).data.viewer;
  check(subscriber.isOrgAdmin, `the subscriber ${subscriber.id} is not an org admin`);
  console.log(`A ${baseA}, B ${baseB}; ${subscriber.id} subscribes on B, ${actor.id} changes ${task} through A`);

  // A known start: whatever an earlier run left, the task is assigned to Katherine alone.
  await mutate('setTaskAssignee', task, 'usr_katherine');
  const before = new Set(await eventIDs(task)); // a late message of these is no concern of ours

  // a. Subscribe on B with no arguments: every change the admin sees.
  const main = connect(token);
  const all = subscribe(main.client, 'subscription 1 (no arguments)');
  const held = await heldBy(all);
  console.log(`subscribed: subscription 1 heard its first change (of ${spareTask}) ${ms(held.at - main.events.opened[0])} after the socket opened`);

  // b. Each mutation through A, each message on B.
  const steps = [
    { name: 'assignUsers', args: [task, ['usr_grace', 'usr_ada']], added: 'usr_ada,usr_grace', removed: '', after: 'usr_katherine,usr_grace,usr_ada' },
    { name: 'unassignUser', args: [task, 'usr_ada'], added: '', removed: 'usr_ada', after: 'usr_katherine,usr_grace' },
    { name: 'setTaskAssignee', args: [task, 'usr_ada'], added: 'usr_ada', removed: 'usr_grace,usr_katherine', after: 'usr_ada' },
  ];
  const latencies = [];
  for (const s of steps) {
    const { assignees, answeredAt } = await mutate(s.name, ...s.args);
    // The order of the users one call adds is the server's (by id): compare as sets.
    check(sorted(assignees) === sorted(s.after.split(',')), `${s.name} through A: assignees [${assignees}], want [${s.after}]`);
    const m = await all.waitFor((c) => c.task.id === task && !before.has(c.id), MESSAGE_TIMEOUT_MS, `message of ${s.name} on ${task}`);
    const c = m.change;
    const events = await eventIDs(task);
    const newest = events[events.length - 1];
    const got = `added [${sorted(idsOf(c.added))}] removed [${sorted(idsOf(c.removed))}] by ${c.actor?.id}`;
    const want = `added [${s.added}] removed [${s.removed}] by ${actor.id}`;
    check(got === want, `${s.name}: the message on B says ${got}, want ${want}`);
    check(c.id === newest, `${s.name}: the message's id is ${c.id}, want the task's newest event ${newest}`);
    check(idsOf(c.task.assignees).join(',') === assignees.join(','),
      `${s.name}: the message's task has assignees [${idsOf(c.task.assignees)}], want them as A answered after the change [${assignees}]`);
    check(!Number.isNaN(Date.parse(c.at)), `${s.name}: the message's at is ${c.at}, not a date-time`);
    const latency = m.at - answeredAt;
    latencies.push(latency);
    const how = latency >= 0 ? "from A's HTTP answer to the message on B" : "(the message on B came before A's HTTP answer)";
    console.log(`latency ${s.name}: ${ms(latency)} ${how} (event ${c.id})`);
  }
  const spare = all.take((c) => c.task.id === task);
  check(!spare, `an unexpected message of ${task} on B: ${JSON.stringify(spare?.change)}`);

  // c1. A second subscription on the same client works, and the first still hears.
  const one = subscribe(main.client, 'subscription 2 (taskId)', { task: spareTask });
  const first = await heldBy(one);
  await all.waitFor((c) => c.id === first.change.id, MESSAGE_TIMEOUT_MS, `the change ${first.change.id} that subscription 2 heard`);
  console.log(`a second subscription on the same client heard ${spareTask}'s change ${first.change.id}, and so did the first`);
  check(main.events.opened.length === 1 && main.events.closed.length === 0,
    `the subscriber's socket opened ${main.events.opened.length} times and closed ${JSON.stringify(main.events.closed)}`);

  // c2. A bad token: the server closes with 4403 (Forbidden), within a second (DESIGN §4).
  const bad = connect('not-a-token');
  await until(() => bad.events.closed.length > 0, 5_000, 'close of the connection with a bad token');
  const closed = bad.events.closed[0];
  check(closed.code === 4403, `a bad token: closed with ${closed.code} "${closed.reason}", want 4403`);
  check(bad.events.connected.length === 0, 'a bad token: the connection was acknowledged');
  const refusedIn = closed.at - bad.events.opened[0];
  check(refusedIn < 1_000, `a bad token: closed with 4403 after ${ms(refusedIn)}, want within a second`);
  console.log(`a bad token: closed with 4403 "${closed.reason}" ${ms(refusedIn)} after the socket opened`);

  // c3. Ping/pong: with keepAlive 500 the client pings, the server answers, the connection stays.
  const live = connect(token, { keepAlive: 500 });
  await until(() => live.events.connected.length > 0, 5_000, 'connection_ack with keepAlive 500');
  await sleep(2_000);
  const pingsSent = live.events.pings.filter((p) => !p.received).length;
  const pongsReceived = live.events.pongs.filter((p) => p.received).length;
  check(live.events.closed.length === 0, `keepAlive 500: the connection closed: ${JSON.stringify(live.events.closed)}`);
  check(pongsReceived >= 2, `keepAlive 500: ${pingsSent} pings sent, ${pongsReceived} pongs received in 2 s, want at least 2 pongs`);
  console.log(`ping/pong: ${pingsSent} pings sent, ${pongsReceived} pongs received in 2 s; the connection stayed up`);

  check(main.events.closed.length === 0, `the subscriber's socket closed: ${JSON.stringify(main.events.closed)}`);
  const errors = [...main.events.errors, ...live.events.errors];
  check(errors.length === 0, `client errors: ${errors.join('; ')}`);
  const max = Math.max(...latencies);
  console.log(`ok: ${steps.length} changes through A heard on B (latency max ${ms(max)}), ` +
    `4403, two subscriptions, ping/pong; ${ms(performance.now() - started)} in all`);
}

main().then(
  () => finish(0),
  (err) => fail(err instanceof Failure ? err.message : (err?.stack ?? String(err))),
);
