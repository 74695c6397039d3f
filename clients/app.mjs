// taskql's board (/app, issue 16) in a real browser: Debian's Chromium, driven by playwright-core,
// with two browser contexts as two users on two taskql processes of one database. Run by
// app_browser_test.go; see the usage below to run it alone.
//
//   node app.mjs BASE_A BASE_B [--artifacts DIR] [--readme-screenshot PATH] [--chromium PATH] [--samples N]
//
// The servers must serve the demo world in development mode with --max-assignees 3. It checks that:
//   1. Ada (agency, org admin) signs in on A with the demo token the page offers, and sees
//      "Spring outreach" by phase, its internal phase marked;
//   2. Bea (client company) signs in on B by keyboard, on a phone-sized viewport (nothing wider than
//      the screen), and sees neither the internal phase nor its task;
//   3. axe-core finds no serious or critical violation on either page (Ada's with the picker open);
//   4. Ada assigns through the picker by keyboard alone (a combobox: search as you type, each
//      candidate's open load, least loaded first), and Bea sees it live; a change of an internal
//      task reaches Bea neither on the screen nor on her WebSocket;
//   5. a change made through the REST endpoints of the other process appears on Ada's board;
//   6. a CONFLICT (the task changed since the board showed it, the event held back from Ada's
//      socket) shows what changed and offers a retry, which succeeds;
//   7. an UNPROCESSABLE shows each offending user with its reason in words;
//   8. after a dropped connection the board reconnects and refetches what it missed; "Clear"
//      (setTaskAssignee, the third mutation) shows on both boards;
//   9. the time from a mutation on Ada's board to its display on Bea's, over N changes (default
//      20): printed as "latency median: X ms" with the other figures;
//  10. no request left the server's host, nothing failed, nothing was logged as an error.
// Screenshots go to the artifacts directory whatever happens. Exits 0 when everything held, 1 with
// "FAIL: …" on stderr otherwise, 2 on bad arguments; the whole run is bounded by 150 s, every wait
// by 15 s.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

import { check, Failure, until as waitUntil } from './lib/check.mjs';
import { boundedRun, elapsed, step } from './lib/run.mjs';

const GLOBAL_TIMEOUT_MS = 150_000;
const STEP_TIMEOUT_MS = 15_000;
const LIVE_TIMEOUT_MS = 5_000; // a change made elsewhere shows within this (the issue asks for 1 s: measured below)

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const usage = `usage: node app.mjs BASE_A BASE_B [options]
  BASE_A, BASE_B              two taskql servers on one database (they may be the same), development
                              mode, demo world, --max-assignees 3; e.g. http://127.0.0.1:8080
  --artifacts DIR             where the screenshots go (default clients/artifacts)
  --readme-screenshot PATH    also save the board as the README shows it (a small PNG)
  --samples N                 changes timed from one context to the other (default 20)
  --chromium PATH             the browser (env CHROMIUM, default /usr/bin/chromium)`;

let args;
try {
  args = parseArgs({
    allowPositionals: true,
    options: {
      artifacts: { type: 'string' },
      'readme-screenshot': { type: 'string' },
      samples: { type: 'string' },
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
const bases = args.positionals.map((b) => b.replace(/\/+$/, ''));
const samples = Number(args.values.samples ?? 20);
if (bases.length !== 2 || !bases.every((b) => /^https?:\/\/[^/]+$/.test(b)) || !(samples >= 1 && samples <= 200)) {
  console.error(usage);
  process.exit(2);
}
const [baseA, baseB] = bases;
const hosts = new Set(bases.map((b) => new URL(b).host));
const artifacts = path.resolve(args.values.artifacts ?? path.join(here, 'artifacts'));
const readmeShot = args.values['readme-screenshot'] ? path.resolve(args.values['readme-screenshot']) : null;
const executablePath = args.values.chromium ?? process.env.CHROMIUM ?? '/usr/bin/chromium';

// The demo world (internal/seed/demo.go): Spring outreach has the internal phase Planning
// (tsk_outbudget) and the public Campaign (tsk_outcontacts, unassigned; tsk_outreply, Grace and
// Katherine); its members are Ada, Grace, Katherine and Bea.
const PROJECT = 'prj_outreach';
const INTERNAL_PHASE = 'phs_outplanning';
const INTERNAL_TASK = 'tsk_outbudget';
const TASK = 'tsk_outcontacts';
const FULL_TASK = 'tsk_outreply';

// ---- bounded everything ---------------------------------------------------------------------

let browser;
const pages = {}; // name -> page, for the screenshots of a failure
const { fail, finish } = boundedRun({
  timeoutMs: GLOBAL_TIMEOUT_MS,
  close: () => browser?.close(),
  report: async () => {
    for (const r of [...foreign, ...failed, ...consoleErrors]) console.error(`  ${r}`);
    for (const m of consoleLog.slice(-20)) console.error(`  page ${m}`);
    for (const [name, page] of Object.entries(pages)) await shoot(page, `app-failure-${name}.png`);
  },
});

const shots = [];
async function shoot(page, name, options = {}) {
  const file = path.join(artifacts, name);
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await page.screenshot({ path: file, timeout: 5_000, ...options });
    shots.push(file);
    return file;
  } catch (err) {
    console.error(`(no screenshot ${name}: ${err.message.split('\n')[0]})`);
    return null;
  }
}

const until = (what, probe, timeout = STEP_TIMEOUT_MS) => waitUntil(what, probe, timeout, 50);

// ---- what the pages do, recorded ------------------------------------------------------------------

const foreign = [];
const failed = [];
const consoleErrors = [];
const consoleLog = [];
const framesB = []; // what Bea's WebSocket received

function watch(name, context) {
  context.on('request', (req) => {
    const u = new URL(req.url());
    if (!hosts.has(u.host)) foreign.push(`${name}: ${req.method()} ${req.url()}`);
  });
  context.on('requestfailed', (req) => failed.push(`${name}: ${req.method()} ${req.url()}: ${req.failure()?.errorText}`));
  context.on('response', (res) => {
    if (res.status() >= 400) failed.push(`${name}: ${res.request().method()} ${res.url()}: HTTP ${res.status()}`);
  });
}

function watchPage(name, page) {
  pages[name] = page;
  page.on('console', (msg) => {
    consoleLog.push(`${name} console.${msg.type()}: ${msg.text()}`);
    if (msg.type() === 'error') consoleErrors.push(`${name} console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => consoleErrors.push(`${name} uncaught: ${err.message}`));
}

// ---- the servers, as other clients ------------------------------------------------------------------

async function rest(base, token, method, route, body) {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
  });
  check(res.ok, `${method} ${route}: HTTP ${res.status} ${await res.text()}`);
  return res;
}

async function graphql(base, token, query, variables = {}) {
  const res = await fetch(`${base}/query`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
  });
  const body = await res.json();
  check(res.ok && !body.errors, `${query}: HTTP ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  return body.data;
}

// ---- the board, as a person uses it ---------------------------------------------------------------

const card = (page, task) => page.locator(`article.card[data-task="${task}"]`);

// assigneesOf is the ids of the users a card shows, in order.
const assigneesOf = (page, task) => card(page, task).locator('ul.assignees li[data-user-id]').evaluateAll((lis) => lis.map((li) => li.dataset.userId));

async function waitAssignees(page, task, want, what, timeout = STEP_TIMEOUT_MS) {
  let last;
  try {
    await until(what, async () => {
      last = await assigneesOf(page, task);
      return last.slice().sort().join() === want.slice().sort().join();
    }, timeout);
  } catch (err) {
    throw new Failure(`${err.message}; the card of ${task} shows [${last}], want [${want}]`);
  }
}

const liveState = (page) => page.locator('#live').getAttribute('data-state');

async function waitLive(page, what) {
  await until(`${what}: the board is live`, async () => (await liveState(page)) === 'live');
}

// pick assigns a user with the picker by keyboard: Tab to the card's "Assign…" button, Enter, type,
// Down until the user is the active option, Enter. It returns the candidates the list showed.
async function pick(page, task, search, userId) {
  const assign = card(page, task).locator('button.assign');
  await assign.focus();
  await page.keyboard.press('Enter');
  const input = card(page, task).locator('input[role="combobox"]');
  await until('the picker has focus', () => input.evaluate((e) => e === document.activeElement));
  await page.keyboard.type(search, { delay: 20 });
  await until(`the picker's list holds the users matching ${JSON.stringify(search)}`, async () =>
    (await input.getAttribute('aria-expanded')) === 'true' && (await input.inputValue()) === search &&
    (await card(page, task).locator('[role="listbox"]').getAttribute('data-search')) === search &&
    !(await card(page, task).locator('.picker[aria-busy]').count()));
  await card(page, task).locator(`[role="option"][data-user-id="${userId}"]`).waitFor({ timeout: STEP_TIMEOUT_MS });
  const candidates = await card(page, task).locator('[role="option"]').evaluateAll((lis) => lis.map((li) => ({
    id: li.dataset.userId, load: li.querySelector('.option-load').dataset.load, disabled: li.getAttribute('aria-disabled') === 'true',
  })));
  for (let i = 0; i < candidates.length; i++) {
    const active = await input.getAttribute('aria-activedescendant');
    if (active && (await page.locator(`[id="${active}"]`).getAttribute('data-user-id')) === userId) break;
    await page.keyboard.press('ArrowDown');
  }
  const active = await input.getAttribute('aria-activedescendant');
  check(active && (await page.locator(`[id="${active}"]`).getAttribute('data-user-id')) === userId,
    `the picker's active option is ${active}, want ${userId}`);
  check((await page.locator(`[id="${active}"]`).getAttribute('aria-selected')) === 'true', 'the active option is not aria-selected');
  await page.keyboard.press('Enter');
  return candidates;
}

// unassign presses a card's "×" of a user.
async function unassign(page, task, userId) {
  await card(page, task).locator(`button.unassign[data-user-id="${userId}"]`).click();
}

async function axe(page, name, axeSource) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) })));
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(serious.length === 0, `axe-core finds serious violations on ${name}:\n  ${serious.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.join(', ')})`).join('\n  ')}`);
  return violations;
}

// marks are a page's User Timing marks of a name, as absolute times (ms since the epoch).
const marks = (page, name) => page.evaluate((n) => performance.getEntriesByName(n).map((m) => ({
  at: performance.timeOrigin + m.startTime, ...m.detail,
})), name);

async function main() {
  check(fs.existsSync(executablePath), `no browser at ${executablePath} (apt-get install -y chromium, or --chromium PATH)`);
  const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  browser = await chromium.launch({
    executablePath,
    headless: true,
    timeout: STEP_TIMEOUT_MS,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  step(`${executablePath} ${browser.version()} started`);

  // Ada's context: desktop, her WebSocket through a relay the test can hold, drop and refuse.
  const ctxA = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  ctxA.setDefaultTimeout(STEP_TIMEOUT_MS);
  watch('A', ctxA);
  const relay = { hold: false, held: [], refuse: false, sockets: [] };
  await ctxA.routeWebSocket(/\/query$/, (ws) => {
    if (relay.refuse) {
      ws.close({ code: 1013, reason: 'try again later' });
      return;
    }
    const server = ws.connectToServer();
    relay.sockets.push(ws);
    ws.onMessage((m) => server.send(m));
    server.onMessage((m) => {
      if (relay.hold) relay.held.push(() => ws.send(m));
      else ws.send(m);
    });
  });
  const a = await ctxA.newPage();
  watchPage('A', a);

  // Bea's context: a phone.
  const ctxB = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  ctxB.setDefaultTimeout(STEP_TIMEOUT_MS);
  watch('B', ctxB);
  const b = await ctxB.newPage();
  watchPage('B', b);
  b.on('websocket', (ws) => ws.on('framereceived', (f) => framesB.push(String(f.payload))));

  // 1. Ada signs in with the demo token the page offers.
  const res = await a.goto(`${baseA}/app`, { waitUntil: 'load' });
  check(res?.status() === 200, `GET /app: HTTP ${res?.status()}`);
  const csp = res.headers()['content-security-policy'] ?? '';
  check(/default-src 'self'/.test(csp) && /script-src 'self'(;|$)/.test(csp), `GET /app: Content-Security-Policy ${JSON.stringify(csp)}`);
  await a.locator('button.demo-token').first().waitFor();
  const violationsSignIn = await axe(a, 'the sign-in page', axeSource);
  const offered = await a.locator('button.demo-token').evaluateAll((bs) => bs.map((x) => x.dataset.token));
  check(offered.includes('demo-ada-token') && offered.includes('demo-bea-token'), `the sign-in offers the demo tokens ${offered}`);
  await a.locator('button.demo-token[data-token="demo-ada-token"]').click();
  await card(a, TASK).waitFor();
  await waitLive(a, 'Ada');
  check((await a.locator('#who').getAttribute('data-viewer')) === 'usr_ada', 'the bar does not name Ada');
  const internal = a.locator(`section.phase[data-phase="${INTERNAL_PHASE}"]`);
  check(await internal.count() === 1 && /internal/i.test(await internal.locator('h2 .badge').textContent()),
    `Ada's board does not mark the internal phase ${INTERNAL_PHASE}`);
  check(await card(a, INTERNAL_TASK).count() === 1, `Ada's board lacks the internal task ${INTERNAL_TASK}`);
  step(`Ada signed in on A with the offered demo token; ${await a.locator('article.card').count()} tasks in ${await a.locator('section.phase').count()} phases, ${INTERNAL_PHASE} marked internal`);

  // 2. Bea signs in by keyboard, on a phone.
  await b.goto(`${baseB}/app#/${PROJECT}`, { waitUntil: 'load' });
  await b.locator('#token').focus();
  await b.keyboard.type('demo-bea-token');
  await b.keyboard.press('Enter');
  await card(b, TASK).waitFor();
  await waitLive(b, 'Bea');
  check((await b.locator('#who').getAttribute('data-viewer')) === 'usr_bea', 'the bar does not name Bea');
  check(await b.locator(`section.phase[data-phase="${INTERNAL_PHASE}"]`).count() === 0, 'Bea (client company) sees the internal phase');
  check(await card(b, INTERNAL_TASK).count() === 0, `Bea (client company) sees the internal task ${INTERNAL_TASK}`);
  check(await b.locator('.badge').count() === 0, 'Bea sees a phase marked internal');
  const overflow = await b.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `on a 390 px wide screen the page is ${overflow} px wider than the screen`);
  step('Bea (client) signed in on B by keyboard, on a 390×844 screen: no internal phase or task, nothing wider than the screen');

  // 3. axe-core, with the picker open on Ada's board.
  await card(a, TASK).locator('button.assign').click();
  await card(a, TASK).locator('[role="option"]').first().waitFor();
  const violationsA = await axe(a, "Ada's board with the picker open", axeSource);
  await a.keyboard.press('Escape');
  await a.keyboard.press('Escape');
  await until('Escape closes the picker and gives focus back to "Assign…"', () =>
    card(a, TASK).locator('button.assign').evaluate((e) => e === document.activeElement));
  const violationsB = await axe(b, "Bea's board on a phone", axeSource);
  step(`axe-core ${JSON.parse(fs.readFileSync(require.resolve('axe-core/package.json'))).version}: no serious or critical violation (others: sign-in ${violationsSignIn.map((v) => `${v.impact} ${v.id}`).join(', ') || 'none'}; A ${violationsA.map((v) => `${v.impact} ${v.id}`).join(', ') || 'none'}; B ${violationsB.map((v) => `${v.impact} ${v.id}`).join(', ') || 'none'})`);

  // 4. Ada assigns Grace by keyboard; Bea sees it live.
  const candidates = await pick(a, TASK, 'gr', 'usr_grace');
  check(candidates.map((c) => c.id).join() === 'usr_grace', `the picker's search "gr" found ${JSON.stringify(candidates)}, want Grace alone`);
  const loads = candidates.filter((c) => !c.disabled).map((c) => (c.load === '' ? NaN : Number(c.load)));
  check(loads.every((l, i) => Number.isFinite(l) && (i === 0 || loads[i - 1] <= l)), `the picker's candidates ${JSON.stringify(candidates)} are not least loaded first`);
  await waitAssignees(a, TASK, ['usr_grace'], "Ada's card shows Grace");
  await waitAssignees(b, TASK, ['usr_grace'], "Bea's card shows Grace, live", LIVE_TIMEOUT_MS);
  check(/Ada Lovelace assigned Grace Hopper/.test(await b.locator('#announce').textContent()), `Bea's live region says ${JSON.stringify(await b.locator('#announce').textContent())}`);
  const all = await pick(a, TASK, '', 'usr_katherine');
  const allLoads = all.filter((c) => !c.disabled).map((c) => (c.load === '' ? NaN : Number(c.load)));
  check(allLoads.length >= 2 && allLoads.every((l, i) => Number.isFinite(l) && (i === 0 || allLoads[i - 1] <= l)), `the picker's candidates ${JSON.stringify(all)} are not least loaded first`);
  await waitAssignees(b, TASK, ['usr_grace', 'usr_katherine'], "Bea's card shows Katherine, live", LIVE_TIMEOUT_MS);
  step(`Ada assigned Grace, then Katherine, with the picker by keyboard (candidates by load: ${all.map((c) => `${c.id} ${c.disabled ? 'assigned' : c.load}`).join(', ')}); Bea saw both live`);
  await shoot(b, 'app-phone.png', { fullPage: true });

  // An internal task's change never reaches Bea: then a visible change, which does.
  await pick(a, INTERNAL_TASK, 'gra', 'usr_grace');
  await waitAssignees(a, INTERNAL_TASK, ['usr_katherine', 'usr_grace'], "Ada's internal card shows Grace");
  await unassign(a, TASK, 'usr_katherine');
  await waitAssignees(b, TASK, ['usr_grace'], "Bea's card loses Katherine, live", LIVE_TIMEOUT_MS);
  check(await card(b, INTERNAL_TASK).count() === 0, 'Bea sees the internal task');
  check(!framesB.some((f) => f.includes(INTERNAL_TASK)), `Bea's WebSocket received ${INTERNAL_TASK}`);
  step(`a change of the internal task ${INTERNAL_TASK} reached neither Bea's screen nor her WebSocket (${framesB.length} frames)`);

  // 5. A change through REST on the other process shows on Ada's board.
  let sent = Date.now();
  await rest(baseB, 'demo-grace-token', 'POST', `/api/v1/steps/${TASK}/assignees`, { user_ids: ['usr_bea'] });
  await waitAssignees(a, TASK, ['usr_grace', 'usr_bea'], "Ada's card shows Bea, assigned through REST on B", LIVE_TIMEOUT_MS);
  step(`POST /api/v1/steps/${TASK}/assignees on B showed on Ada's board (A) ${Date.now() - sent} ms after it was sent`);
  await waitAssignees(b, TASK, ['usr_grace', 'usr_bea'], "Bea's card shows Bea", LIVE_TIMEOUT_MS);

  // 6. A conflict: Ada's socket holds its messages; the task changes through REST; Ada acts on
  // what she saw.
  relay.hold = true;
  await rest(baseB, 'demo-grace-token', 'DELETE', `/api/v1/steps/${TASK}/assignees/usr_bea`);
  await waitAssignees(b, TASK, ['usr_grace'], "Bea's card loses Bea", LIVE_TIMEOUT_MS);
  check((await assigneesOf(a, TASK)).includes('usr_bea'), "Ada's board heard the change it should not have yet");
  await unassign(a, TASK, 'usr_grace');
  const conflict = card(a, TASK).locator('.alert[data-kind="conflict"]');
  await conflict.waitFor();
  const said = (await conflict.textContent()).replace(/\s+/g, ' ');
  check(/Bea Baker was unassigned/.test(said) && /unassign Grace Hopper/.test(said), `the conflict says ${JSON.stringify(said)}`);
  await waitAssignees(a, TASK, ['usr_grace'], "after the conflict Ada's card shows the task as it is");
  check(await conflict.locator('button.retry').evaluate((e) => e === document.activeElement), 'the retry button does not have focus');
  await shoot(a, 'app-conflict.png');
  step(`CONFLICT shown: ${JSON.stringify(said)}`);
  await a.keyboard.press('Enter'); // the retry
  await waitAssignees(a, TASK, [], "the retry unassigned Grace");
  check(await card(a, TASK).locator('.alert').count() === 0, 'the conflict stays after the retry succeeded');
  relay.hold = false;
  for (const send of relay.held.splice(0)) send();
  await waitAssignees(a, TASK, [], "the held messages (older) change nothing", 1_000);
  await waitAssignees(b, TASK, [], "Bea's card shows the retry, live", LIVE_TIMEOUT_MS);
  step('the retry made the change on the current version; the messages held back, older, changed nothing');

  // 7. A violation: tsk_outreply holds Grace and Katherine, the server takes 3 at most.
  await pick(a, FULL_TASK, 'ada', 'usr_ada');
  await waitAssignees(a, FULL_TASK, ['usr_grace', 'usr_katherine', 'usr_ada'], "Ada's card shows Ada on the full task");
  await pick(a, FULL_TASK, 'bea', 'usr_bea');
  const violation = card(a, FULL_TASK).locator('.alert[data-kind="violation"]');
  await violation.waitFor();
  const reasons = await violation.locator('li[data-user-id]').evaluateAll((lis) => lis.map((li) => `${li.dataset.userId} ${li.dataset.reason}: ${li.textContent}`));
  check(reasons.length === 1 && reasons[0].startsWith('usr_bea TOO_MANY_ASSIGNEES: Bea Baker cannot be added'), `the violation lists ${JSON.stringify(reasons)}`);
  await waitAssignees(a, FULL_TASK, ['usr_grace', 'usr_katherine', 'usr_ada'], 'nothing changed after the violation', 1_000);
  await shoot(a, 'app-violation.png');
  step(`UNPROCESSABLE shown: ${reasons.join('; ')}`);
  await violation.locator('button', { hasText: 'Dismiss' }).click();

  // 8. A dropped connection: what changed meanwhile is fetched again.
  relay.refuse = true;
  for (const ws of relay.sockets.splice(0)) ws.close({ code: 1013, reason: 'try again later' });
  await until("Ada's board says it is reconnecting", async () => (await liveState(a)) === 'connecting');
  await rest(baseB, 'demo-grace-token', 'DELETE', `/api/v1/steps/${FULL_TASK}/assignees/usr_ada`);
  await waitAssignees(b, FULL_TASK, ['usr_grace', 'usr_katherine'], "Bea's card loses Ada", LIVE_TIMEOUT_MS);
  relay.refuse = false;
  sent = Date.now();
  await waitLive(a, 'Ada, reconnected');
  await waitAssignees(a, FULL_TASK, ['usr_grace', 'usr_katherine'], "Ada's board refetched the change it missed");
  step(`the board reconnected ${Date.now() - sent} ms after the server took connections again, and refetched the change it missed`);

  // setTaskAssignee, the third mutation: "Clear".
  await card(a, FULL_TASK).locator('button.clear').click();
  await waitAssignees(a, FULL_TASK, [], "Clear empties Ada's card");
  await waitAssignees(b, FULL_TASK, [], "Bea's card shows the clearing, live", LIVE_TIMEOUT_MS);
  step('"Clear" (setTaskAssignee with no one) emptied the task on both boards');

  // 9. Mutation on Ada's board to display on Bea's, N times.
  const latencies = [];
  for (let i = 0; i < samples; i++) {
    const before = (await marks(b, 'taskql:shown')).length;
    const adding = i % 2 === 0;
    if (adding) await pick(a, TASK, 'kat', 'usr_katherine');
    else await unassign(a, TASK, 'usr_katherine');
    await waitAssignees(b, TASK, adding ? ['usr_katherine'] : [], `change ${i + 1} shows on Bea's board`, LIVE_TIMEOUT_MS);
    const sentAt = (await marks(a, 'taskql:mutation')).filter((m) => m.taskId === TASK).at(-1).at;
    const shown = (await marks(b, 'taskql:shown')).slice(before).filter((m) => m.taskId === TASK);
    check(shown.length === 1, `change ${i + 1}: Bea's board marked ${shown.length} changes shown, want 1`);
    latencies.push(shown[0].at - sentAt);
  }
  latencies.sort((x, y) => x - y);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  const median = latencies.length % 2 ? latencies[(latencies.length - 1) / 2] : (latencies[latencies.length / 2 - 1] + latencies[latencies.length / 2]) / 2;
  console.log(`latency median: ${median.toFixed(1)} ms over ${latencies.length} changes (min ${latencies[0].toFixed(1)}, p90 ${q(0.9).toFixed(1)}, max ${latencies.at(-1).toFixed(1)} ms), from the mutation sent on Ada's board (A) to the change on Bea's screen (B)`);
  check(latencies.at(-1) < 1000, `a change took ${latencies.at(-1).toFixed(1)} ms to show, more than a second`);

  // The screenshots of the board.
  await shoot(a, 'app-board.png');
  await shoot(b, 'app-phone-after.png', { fullPage: true });
  if (readmeShot) {
    await a.setViewportSize({ width: 1100, height: 640 });
    await pick(a, FULL_TASK, '', 'usr_grace');
    await waitAssignees(a, FULL_TASK, ['usr_grace'], 'Grace on the task again');
    await card(a, TASK).locator('button.assign').click();
    await card(a, TASK).locator('[role="option"]').first().waitFor();
    fs.mkdirSync(path.dirname(readmeShot), { recursive: true });
    await a.screenshot({ path: readmeShot });
    step(`README screenshot: ${readmeShot} (${fs.statSync(readmeShot).size} bytes)`);
  }

  // 10. Nothing left the hosts, nothing failed, nothing logged as an error.
  await a.waitForTimeout(200); // the last console messages
  check(foreign.length === 0, `requests to other hosts:\n  ${foreign.join('\n  ')}`);
  check(failed.length === 0, `requests failed:\n  ${failed.join('\n  ')}`);
  check(consoleErrors.length === 0, `the pages logged errors:\n  ${consoleErrors.join('\n  ')}`);
  step(`no request left ${[...hosts].join(' and ')}, none failed, no console error`);
  console.log(`screenshots: ${shots.join(' ')}`);
}

main().then(
  async () => {
    console.log(`ok: the board works in ${elapsed()}`);
    await finish(0);
  },
  async (err) => {
    await fail(err instanceof Failure ? err.message : err.stack ?? String(err));
  },
);
