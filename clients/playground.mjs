// taskql's playground (DESIGN §7) in a real browser: Debian's Chromium, driven by playwright-core,
// opens the playground of a running taskql server (development mode, demo world loaded) and uses
// it as a person would. Run by playground_browser_test.go; see the usage below to run it alone.
//
//   node playground.mjs BASE_URL [--screenshot PATH] [--chromium PATH] [--token T] [--other-token T] …
//
// It checks that:
//   1. the page loads and GraphiQL renders, with the demo token in the token field;
//   2. the schema shows in the Docs pane (Query's fields, viewer among them): the introspection
//      went out with the token;
//   3. a query ({ viewer { id name } }) and a mutation (setTaskAssignee, then assignUsers) run
//      from the editor, and their results show in the result pane;
//   4. a subscription (taskAssigneesChanged) runs over graphql-transport-ws with the token in
//      connection_init's payload, and a change made meanwhile (a fetch to /query with the token)
//      shows in the result pane;
//   5. GraphiQL's settings dialog opens (its <style> element needs the CSP's nonce);
//   6. another token typed in the bar is used at once (the schema fetched again with it, a query
//      answered for its user), kept across a reload, and "Demo token" goes back to the demo token;
//   7. the page made no request to any other host, none failed or was answered with an error,
//      every request to /query carried "Authorization: Bearer <the token in use>", and nothing was
//      logged as an error on the console (a Content-Security-Policy violation included).
// It saves a screenshot (the Docs pane on Query, the result of the subscription) whatever happens.
// Exits 0 when everything held, 1 with "FAIL: …" on stderr otherwise, 2 on bad arguments; the
// whole run is bounded by 90 s, every wait by 15 s.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

import { check, Failure, until as waitUntil } from './lib/check.mjs';
import { boundedRun, elapsed, step } from './lib/run.mjs';

const GLOBAL_TIMEOUT_MS = 90_000;
const STEP_TIMEOUT_MS = 15_000; // any one wait: a page load, an element, a result
const EVENT_TIMEOUT_MS = 3_000; // for a subscription's event after one change (then another change)
const CHANGES = 5; // changes made, at most, until the subscription's event shows

const here = path.dirname(fileURLToPath(import.meta.url));
const usage = `usage: node playground.mjs BASE_URL [options]
  BASE_URL             a taskql server in development mode with the demo world (env TASKQL_URL),
                       e.g. http://127.0.0.1:8080
  --screenshot PATH    where to save the screenshot (env PLAYGROUND_SCREENSHOT,
                       default clients/artifacts/playground.png)
  --token T            the token the page must offer: the demo token (env TASKQL_TOKEN, default demo-ada-token)
  --viewer ID          whose token it is (default usr_ada)
  --other-token T      a token typed in the page (default demo-grace-token)
  --other-viewer ID    whose token that is (default usr_grace)
  --task ID            the task whose assignees change (env TASKQL_TASK, default tsk_outbudget)
  --user ID            the user assigned and unassigned on it (default usr_grace); the task is first
                       given to --keep alone (default usr_katherine)
  --keep ID
  --chromium PATH      the browser (env CHROMIUM, default /usr/bin/chromium)`;

let args;
try {
  args = parseArgs({
    allowPositionals: true,
    options: {
      screenshot: { type: 'string' },
      token: { type: 'string' },
      viewer: { type: 'string' },
      'other-token': { type: 'string' },
      'other-viewer': { type: 'string' },
      task: { type: 'string' },
      user: { type: 'string' },
      keep: { type: 'string' },
      chromium: { type: 'string' },
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
const base = (args.positionals[0] ?? env.TASKQL_URL ?? '').replace(/\/+$/, '');
if (!/^https?:\/\/[^/]+$/.test(base) || args.positionals.length > 1) {
  console.error(usage);
  process.exit(2);
}
const origin = new URL(base);
const screenshot = path.resolve(args.values.screenshot ?? env.PLAYGROUND_SCREENSHOT ?? path.join(here, 'artifacts', 'playground.png'));
const token = args.values.token ?? env.TASKQL_TOKEN ?? 'demo-ada-token';
const viewerID = args.values.viewer ?? 'usr_ada';
const otherToken = args.values['other-token'] ?? 'demo-grace-token';
const otherViewerID = args.values['other-viewer'] ?? 'usr_grace';
const task = args.values.task ?? env.TASKQL_TASK ?? 'tsk_outbudget';
const user = args.values.user ?? 'usr_grace';
const keep = args.values.keep ?? 'usr_katherine';
const executablePath = args.values.chromium ?? env.CHROMIUM ?? '/usr/bin/chromium';

// ---- bounded everything ---------------------------------------------------------------------

let browser;
let page;

const { fail, finish } = boundedRun({
  timeoutMs: GLOBAL_TIMEOUT_MS,
  close: () => browser?.close(),
  report: async () => {
    // What the page did, to tell why.
    for (const m of consoleLog.slice(-20)) console.error(`  page ${m}`);
    for (const s of sockets) {
      console.error(`  WebSocket ${s.url}`);
      for (const f of s.frames.slice(-10)) console.error(`    ${f.slice(0, 200)}`);
    }
    for (const r of [...foreign, ...failed, ...unauthorized, ...consoleErrors]) console.error(`  ${r}`);
    await saveScreenshot();
  },
});

let saved = false;
async function saveScreenshot() {
  if (saved || !page) return;
  saved = true;
  try {
    fs.mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, timeout: 5_000 });
    console.log(`screenshot: ${screenshot}`);
  } catch (err) {
    console.error(`(no screenshot: ${err.message.split('\n')[0]})`);
  }
}

// ---- what the page does, recorded ---------------------------------------------------------------

const foreign = []; // requests to another host
const failed = []; // requests that failed, or were answered with an error status
const unauthorized = []; // requests to /query without the token in use
let inUse = token; // the token the page should send
const consoleErrors = []; // console errors and uncaught exceptions
const consoleLog = []; // every console message, for a failure's report
let requests = 0;
const introspections = []; // the Authorization of each introspection request
const sockets = []; // { url, sent: [parsed messages], received: [...] }

function sameHost(u) {
  return ['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol) && u.host === origin.host;
}

function watch(context) {
  context.on('request', (req) => {
    requests++;
    const u = new URL(req.url());
    if (!sameHost(u)) {
      foreign.push(`${req.method()} ${req.url()}`);
      return;
    }
    if (u.pathname === '/query') {
      const auth = req.headers().authorization;
      const body = req.postData() ?? '';
      if (/IntrospectionQuery/.test(body)) introspections.push(auth);
      if (auth !== `Bearer ${inUse}`) unauthorized.push(`${req.method()} /query ${body.slice(0, 80)}… with Authorization ${JSON.stringify(auth)}, want Bearer ${inUse}`);
    }
  });
  context.on('requestfailed', (req) => failed.push(`${req.method()} ${req.url()}: ${req.failure()?.errorText}`));
  context.on('response', (res) => {
    if (res.status() >= 400) failed.push(`${res.request().method()} ${res.url()}: HTTP ${res.status()}`);
  });
}

function watchPage(p) {
  p.on('console', (msg) => {
    consoleLog.push(`console.${msg.type()}: ${msg.text()}`);
    if (msg.type() === 'error') consoleErrors.push(`console error: ${msg.text()}`);
  });
  p.on('pageerror', (err) => consoleErrors.push(`uncaught: ${err.message}`));
  p.on('websocket', (ws) => {
    const s = { url: ws.url(), sent: [], received: [], frames: [] };
    sockets.push(s);
    if (!sameHost(new URL(ws.url()))) foreign.push(`WebSocket ${ws.url()}`);
    const parse = (payload) => {
      try {
        return JSON.parse(typeof payload === 'string' ? payload : payload.toString());
      } catch {
        return { unparsed: String(payload) };
      }
    };
    ws.on('framesent', (f) => {
      s.sent.push(parse(f.payload));
      s.frames.push(`sent ${f.payload}`);
    });
    ws.on('framereceived', (f) => {
      s.received.push(parse(f.payload));
      s.frames.push(`received ${f.payload}`);
    });
    ws.on('socketerror', (err) => s.frames.push(`error ${err}`));
    ws.on('close', () => s.frames.push('closed'));
  });
}

// ---- GraphiQL, as a person uses it ----------------------------------------------------------------

const until = (what, probe, timeout = STEP_TIMEOUT_MS) => waitUntil(what, probe, timeout, 100);

// run puts text in GraphiQL's query editor (CodeMirror 5, whose element holds its editor), as
// pasting it would, then presses the run button. GraphiQL parses the editor's text 100 ms after
// it changes, and runs the document it parsed last: the button is pressed once it has parsed
// this text (as a person typing would never notice).
async function run(text) {
  await page.evaluate((t) => {
    const cm = document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror;
    cm.setValue(t);
    cm.focus();
  }, text);
  await page.waitForFunction((t) => {
    const cm = document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror;
    return cm.documentAST?.loc?.source?.body === t;
  }, text, { timeout: STEP_TIMEOUT_MS });
  // The button stops what runs (its label says "Stop query"): press it only once it would run.
  await page.click('button.graphiql-execute-button[aria-label^="Execute"]', { timeout: STEP_TIMEOUT_MS });
}

async function result() {
  return page.evaluate(() => document.querySelector('.result-window .CodeMirror')?.CodeMirror.getValue() ?? '');
}

// resultJSON waits for the result pane to hold JSON that passes test, and returns it.
async function resultJSON(what, test) {
  let last = '';
  try {
    return await until(what, async () => {
      last = await result();
      try {
        const v = JSON.parse(last);
        return test(v) ? v : null;
      } catch {
        return null;
      }
    });
  } catch (err) {
    throw new Failure(`${err.message}; the result pane holds: ${last.slice(0, 600) || '(nothing)'}`);
  }
}

const ids = (list) => (list ?? []).map((u) => u.id).sort().join(',');

// change makes a change through the API, as another client would: a fetch with the token.
async function change(mutation) {
  const res = await fetch(`${base}/query`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: mutation }),
    signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
  });
  const body = await res.json();
  check(res.ok && !body.errors, `${mutation}: HTTP ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  return body.data;
}

async function main() {
  check(fs.existsSync(executablePath), `no browser at ${executablePath} (apt-get install -y chromium, or --chromium PATH)`);
  browser = await chromium.launch({
    executablePath,
    headless: true,
    timeout: STEP_TIMEOUT_MS,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  step(`${executablePath} ${browser.version()} started`);
  // A new context is a fresh profile: no stored token, no GraphiQL tabs of an earlier run.
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  watch(context);
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  page = await context.newPage();
  watchPage(page);

  // 1. The page, and GraphiQL in it, with the demo token.
  const res = await page.goto(`${base}/`, { waitUntil: 'load', timeout: STEP_TIMEOUT_MS });
  check(res?.status() === 200, `GET /: HTTP ${res?.status()}`);
  step("loaded /");
  const csp = res.headers()['content-security-policy'] ?? '';
  check(/default-src 'self'/.test(csp) && /script-src 'self'(;|$)/.test(csp), `GET /: Content-Security-Policy ${JSON.stringify(csp)}`);
  await page.waitForSelector('.graphiql-container .graphiql-query-editor .CodeMirror', { timeout: STEP_TIMEOUT_MS });
  const offered = await page.inputValue('#taskql-token-input');
  check(offered === token, `the token field holds ${JSON.stringify(offered)}, want the demo token ${token}`);
  await until(`the bar names the viewer ${viewerID}`, async () => (await page.textContent('#taskql-viewer'))?.includes(viewerID));
  step(`GraphiQL rendered, with the token ${token} (${(await page.textContent('#taskql-viewer')).trim()})`);

  // 2. The schema, in the Docs pane.
  await page.click('button[aria-label="Show Documentation Explorer"]');
  const docs = page.locator('.graphiql-doc-explorer');
  await docs.locator('.graphiql-doc-explorer-root-type', { hasText: 'Query' }).first().waitFor({ timeout: STEP_TIMEOUT_MS });
  await docs.locator('a.graphiql-doc-explorer-type-name', { hasText: /^Query$/ }).first().click();
  await docs.locator('.graphiql-doc-explorer-field-name', { hasText: /^viewer$/ }).first().waitFor({ timeout: STEP_TIMEOUT_MS });
  const fields = await docs.locator('.graphiql-doc-explorer-field-name').allTextContents();
  check(fields.includes('tasks') && fields.includes('node'), `the Docs pane lists Query's fields ${fields.join(', ')}; want viewer, tasks, node among them`);
  check(introspections.length > 0, 'no introspection request was seen');
  step(`the Docs pane shows Query: ${fields.join(', ')}`);

  // 3. A query and a mutation, from the editor.
  await run('{ viewer { id name } }');
  const q = await resultJSON('the query { viewer { id name } } shows its result', (v) => v.data?.viewer);
  check(q.data.viewer.id === viewerID && !q.errors, `{ viewer { id name } } = ${JSON.stringify(q)}, want the viewer ${viewerID}`);
  step(`query: ${JSON.stringify(q.data)}`);
  await run(`mutation {
  reset: setTaskAssignee(taskId: "${task}", assignee: "${keep}") { id assignees { id } }
  add: assignUsers(taskId: "${task}", userIds: ["${user}"]) { id assignees { id } }
}`);
  const m = await resultJSON('the mutation shows its result', (v) => v.data?.add || v.errors);
  check(!m.errors && ids(m.data.reset.assignees) === keep && ids(m.data.add.assignees) === [keep, user].sort().join(','),
    `the mutation's result ${JSON.stringify(m)}: want ${task} assigned to ${keep}, then to ${keep} and ${user}`);
  step(`mutation: ${JSON.stringify(m.data)}`);

  // 4. A subscription, and a change made meanwhile.
  const socketsBefore = sockets.length;
  await run(`subscription {
  taskAssigneesChanged(taskId: "${task}") {
    id
    added { id }
    removed { id }
    actor { id }
    task { id assignees { id } }
  }
}`);
  const s = await until('the subscription is sent over a WebSocket', async () => {
    const found = sockets.slice(socketsBefore).find((x) => x.sent.some((f) => f.type === 'subscribe'));
    return found && found.received.some((f) => f.type === 'connection_ack') ? found : null;
  });
  check(new URL(s.url).pathname === '/query' && sameHost(new URL(s.url)), `the subscription's WebSocket is ${s.url}, want ${origin.host}/query`);
  const init = s.sent.find((f) => f.type === 'connection_init');
  check(init?.payload?.Authorization === `Bearer ${token}`, `connection_init's payload is ${JSON.stringify(init?.payload)}, want {"Authorization": "Bearer ${token}"}`);
  step(`subscribed over ${s.url} (graphql-transport-ws), connection_init carried the token`);
  // A change made before the server holds the subscription is rightly not delivered: change until
  // an event shows, toggling the user.
  let assigned = true;
  let event;
  for (let i = 1; i <= CHANGES && !event; i++) {
    const mutation = assigned
      ? `mutation { unassignUser(taskId: "${task}", userId: "${user}") { id } }`
      : `mutation { assignUsers(taskId: "${task}", userIds: ["${user}"]) { id } }`;
    await change(mutation);
    const want = assigned ? { added: '', removed: user } : { added: user, removed: '' };
    assigned = !assigned;
    try {
      event = await resultJSON('an event', (v) => {
        const e = v.data?.taskAssigneesChanged;
        return e && ids(e.added) === want.added && ids(e.removed) === want.removed;
      }, EVENT_TIMEOUT_MS);
    } catch (err) {
      if (!(err instanceof Failure) || i === CHANGES) throw new Failure(`no event of the changes showed in the result pane: ${err.message}`);
    }
  }
  const e = event.data.taskAssigneesChanged;
  check(e.actor?.id === viewerID && e.task?.id === task && /^evt_/.test(e.id), `the event ${JSON.stringify(e)}: want actor ${viewerID}, task ${task}, an evt_ id`);
  step(`the subscription's event showed: ${JSON.stringify(e)}`);
  await saveScreenshot();
  if (!assigned) await change(`mutation { assignUsers(taskId: "${task}", userIds: ["${user}"]) { id } }`); // as the mutation left it
  await page.click('button.graphiql-execute-button[aria-label^="Stop"]'); // ends the subscription

  // 5. A dialog, under the Content-Security-Policy.
  await page.click('button[aria-label="Open settings dialog"]');
  await page.locator('[role="dialog"]', { hasText: 'Settings' }).waitFor({ timeout: STEP_TIMEOUT_MS });
  await page.keyboard.press('Escape');
  await page.locator('[role="dialog"]').waitFor({ state: 'detached', timeout: STEP_TIMEOUT_MS });
  step('the settings dialog opened and closed');

  // 6. Another token, typed in the bar.
  const seen = introspections.length;
  inUse = otherToken;
  await page.fill('#taskql-token-input', otherToken);
  await page.click('#taskql-token button[type="submit"]');
  await until(`the bar names the viewer ${otherViewerID}`, async () => (await page.textContent('#taskql-viewer'))?.includes(otherViewerID));
  await until('the schema is fetched again with the new token', async () => introspections.length > seen);
  await run('{ viewer { id } }');
  const other = await resultJSON(`{ viewer { id } } with ${otherToken}`, (v) => v.data?.viewer?.id === otherViewerID || v.errors);
  check(!other.errors, `{ viewer { id } } with ${otherToken}: ${JSON.stringify(other)}`);
  await page.reload({ waitUntil: 'load', timeout: STEP_TIMEOUT_MS });
  await page.waitForSelector('.graphiql-container .graphiql-query-editor .CodeMirror', { timeout: STEP_TIMEOUT_MS });
  const kept = await page.inputValue('#taskql-token-input');
  check(kept === otherToken, `after a reload the token field holds ${JSON.stringify(kept)}, want the token typed, ${otherToken}`);
  await until(`the bar names the viewer ${otherViewerID} after a reload`, async () => (await page.textContent('#taskql-viewer'))?.includes(otherViewerID));
  inUse = token;
  await page.click('#taskql-demo-token');
  await until(`"Demo token" brings back ${viewerID}`, async () => (await page.textContent('#taskql-viewer'))?.includes(viewerID));
  check(await page.inputValue('#taskql-token-input') === token, 'the token field does not hold the demo token after "Demo token"');
  step(`another token typed in the bar (${otherToken}) was used at once and kept across a reload; "Demo token" brought back ${token}`);

  // 7. Nothing left the server, nothing failed, nothing went without the token.
  await page.waitForTimeout(300); // the last console messages
  check(foreign.length === 0, `the page made requests to other hosts than ${origin.host}:\n  ${foreign.join('\n  ')}`);
  check(failed.length === 0, `requests failed:\n  ${failed.join('\n  ')}`);
  check(unauthorized.length === 0, `requests to /query went without "Authorization: Bearer ${token}":\n  ${unauthorized.join('\n  ')}`);
  check(consoleErrors.length === 0, `the page logged errors:\n  ${consoleErrors.join('\n  ')}`);
  step(`${requests} requests, all to ${origin.host}, ${introspections.length} introspections (${introspections.join(', ')}), every /query request with the token in use; no console error`);
}

main().then(
  async () => {
    console.log(`ok: the playground works offline in ${elapsed()}`);
    await finish(0);
  },
  async (err) => {
    await fail(err instanceof Failure ? err.message : err.stack ?? String(err));
  },
);
