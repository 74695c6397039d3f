// taskql's board (issue 16): sign in with a token, pick a project, see its tasks by phase with
// their assignees, and change them. Every change is one of the three mutations with ifVersion (the
// task's version as the board showed it): a CONFLICT says what changed meanwhile and offers to
// retry, an UNPROCESSABLE says, for each offending user, why in words. The board hears every change
// of the project's tasks (taskAssigneesChanged) and shows it at once; after a dropped connection it
// reconnects and refetches the board, since missed changes are not replayed.
//
// For measurement, it marks (User Timing) when it sends a mutation ("taskql:mutation") and when a
// change it heard is on the screen ("taskql:shown"), each with the task's id in its detail.

import { live, request } from './api.js';
import { createPicker } from './picker.js';

const settings = JSON.parse(document.querySelector('meta[name="taskql-app"]').content);
const endpoint = settings.endpoint || '/query';
const stored = 'taskql-app:token';

const TASK = 'id label status type modifiedAt version phase { id } assignees { id name }';

const VIEWER = `query Viewer {
  viewer { id name company { name kind } }
  projects(first: 100) { nodes { id name } }
}`;

const BOARD = `query Board($id: ID!, $after: String) {
  project(id: $id) {
    id
    name
    phases { id name position internal }
    tasks(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { ${TASK} } }
  }
}`;

const TASK_NOW = `query Task($id: ID!) { task(id: $id) { ${TASK} } }`;

const CANDIDATES = `query Candidates($id: ID!, $search: String) {
  task(id: $id) {
    id
    assignableUsers(search: $search, first: 20, orderBy: LOAD) { nodes { id name email openAssignedCount } }
  }
}`;

const CHANGES = `subscription Changes($projectId: ID!) {
  taskAssigneesChanged(projectId: $projectId) {
    id
    at
    actor { id name }
    added { id name }
    removed { id name }
    task { ${TASK} }
  }
}`;

// The three mutations (DESIGN §3), each conditional on the version the board showed (§10).
const MUTATIONS = {
  assign: `mutation Assign($taskId: ID!, $userIds: [ID!]!, $ifVersion: String) {
  assignUsers(taskId: $taskId, userIds: $userIds, ifVersion: $ifVersion) { ${TASK} }
}`,
  unassign: `mutation Unassign($taskId: ID!, $userId: ID!, $ifVersion: String) {
  unassignUser(taskId: $taskId, userId: $userId, ifVersion: $ifVersion) { ${TASK} }
}`,
  clear: `mutation Clear($taskId: ID!, $ifVersion: String) {
  setTaskAssignee(taskId: $taskId, assignee: null, ifVersion: $ifVersion) { ${TASK} }
}`,
};

// REASONS are DESIGN §3's violation reasons, in words.
const REASONS = {
  USER_NOT_FOUND: 'is not a user of this organization',
  NOT_PROJECT_MEMBER: 'is not a member of this project',
  NOT_AGENCY_MEMBER: 'is not in the agency company, and this task is in an internal phase (agency only)',
  TOO_MANY_ASSIGNEES: 'cannot be added: the task already has as many assignees as it may',
};

const STATUS_WORDS = {
  OPEN: 'Open', COMPLETED: 'Completed', CLOSED: 'Closed', ARCHIVED: 'Archived', FAILED: 'Failed',
  PROCESSING: 'Processing', ASSIGNED_TO_AGENT: 'With an agent',
};

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role') e.setAttribute(k, v === true ? 'true' : v);
    else e[k] = v;
  }
  e.append(...children.filter((c) => c != null));
  return e;
}

// stamp makes an RFC 3339 time comparable as a string, to the nanosecond (modifiedAt is more
// precise than a Date).
function stamp(t) {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(t ?? '');
  if (!m) return '';
  return String(Date.parse(m[1] + m[3])).padStart(15, '0') + (m[2] ?? '').padEnd(9, '0');
}

const names = (users) => users.map((u) => u.name).join(', ');

// mark records a User Timing mark (see the top), keeping the last few hundred of each name.
function mark(name, detail) {
  if (performance.getEntriesByName(name).length >= 500) performance.clearMarks(name);
  performance.mark(name, { detail });
}

// ---- state ------------------------------------------------------------------------------------

const state = {
  token: '',
  viewer: null,
  projects: [],
  project: null, // { id, name, phases }
  tasks: new Map(), // id -> task
  cards: new Map(), // id -> the card's parts
  live: null,
  unsubscribe: null,
  seen: new Set(), // ids of the events shown, to drop repeats
  loading: 0,
};

function saveToken(token) {
  try {
    if (token) sessionStorage.setItem(stored, token);
    else sessionStorage.removeItem(stored);
  } catch {
    // no storage: the token lasts as long as the page
  }
}

function loadToken() {
  try {
    return sessionStorage.getItem(stored) || '';
  } catch {
    return '';
  }
}

function announce(text) {
  $('announce').textContent = text;
}

function notice(text) {
  $('notice').textContent = text;
}

// ---- signing in ---------------------------------------------------------------------------------

function showSignIn(message = '') {
  state.live?.close();
  state.live = null;
  state.unsubscribe = null;
  state.viewer = null;
  $('workspace').hidden = true;
  $('sign-out').hidden = true;
  $('who').textContent = '';
  setLive('off');
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = message;
  const demos = settings.demoTokens ?? [];
  $('demo').hidden = demos.length === 0;
  $('demo-list').replaceChildren(...demos.map((d) => el('li', {},
    el('button', { type: 'button', class: 'demo-token', 'data-token': d.token, onclick: () => signIn(d.token) },
      `Sign in as ${d.label}`),
    ' ', el('code', { text: d.token }))));
  document.title = 'Sign in · taskql board';
}

async function signIn(token) {
  token = token.trim();
  if (!token) return;
  $('sign-in-error').textContent = '';
  let data;
  try {
    data = await request(endpoint, token, VIEWER);
  } catch (err) {
    saveToken('');
    const why = {
      UNAUTHENTICATED: 'This token is not known, or it was revoked.',
      FORBIDDEN: "This user's access is not approved yet.",
      NETWORK: 'The server cannot be reached.',
    }[err.code] ?? `The server refused: ${err.message}`;
    showSignIn(why);
    return;
  }
  state.token = token;
  saveToken(token);
  state.viewer = data.viewer;
  state.projects = data.projects.nodes;
  $('token').value = '';
  $('sign-in').hidden = true;
  $('workspace').hidden = false;
  $('sign-out').hidden = false;
  $('board').focus(); // the sign-in form, which had focus, is gone
  const company = data.viewer.company;
  $('who').textContent = `${data.viewer.name} · ${company.name} (${company.kind === 'AGENCY' ? 'agency' : 'client'})`;
  $('who').dataset.viewer = data.viewer.id;
  renderProjects();
  // Only the connection of this sign-in may change the board: one closed by signing out says
  // nothing more.
  let conn = null;
  conn = live(endpoint, token, (s, retried) => {
    if (conn && state.live === conn) onLive(s, retried);
  });
  state.live = conn;
  setLive('connecting');
  const wanted = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
  const first = state.projects.find((p) => p.id === wanted) ?? state.projects[0];
  if (first) openProject(first.id);
  else {
    $('board-title').textContent = 'No projects';
    notice('You are not a member of any project.');
  }
}

function signOut() {
  saveToken('');
  state.token = '';
  state.project = null;
  state.tasks.clear();
  state.cards.clear();
  $('phases').replaceChildren();
  showSignIn();
}

// ---- live -----------------------------------------------------------------------------------------

function setLive(s) {
  const words = { off: 'Offline', connecting: 'Connecting…', live: 'Live', refused: 'Token refused' };
  $('live').dataset.state = s;
  $('live').textContent = words[s];
}

function onLive(s, retried) {
  setLive(s);
  if (s === 'refused') {
    saveToken('');
    showSignIn('The server refused the token: it was revoked, or the user lost access.');
  }
  // Changes made while the connection was down are not replayed: read the board again.
  if (s === 'live' && retried && state.project) loadBoard(state.project.id, { refetch: true });
}

function subscribe(projectId) {
  state.unsubscribe?.();
  state.unsubscribe = state.live.subscribe(CHANGES, { projectId }, (data) => {
    const change = data.taskAssigneesChanged;
    if (state.seen.has(change.id)) return;
    state.seen.add(change.id);
    if (state.seen.size > 1000) state.seen.delete(state.seen.values().next().value);
    if (state.project?.id !== projectId) return;
    if (!applyTask(change.task)) return;
    mark('taskql:shown', { taskId: change.task.id, eventId: change.id });
    if (change.actor?.id !== state.viewer?.id) {
      const parts = [];
      if (change.added.length) parts.push(`assigned ${names(change.added)}`);
      if (change.removed.length) parts.push(`unassigned ${names(change.removed)}`);
      announce(`${change.actor?.name ?? 'Someone'} ${parts.join(' and ')} on “${change.task.label}”.`);
      const card = state.cards.get(change.task.id);
      if (card) {
        card.root.classList.remove('changed');
        void card.root.offsetWidth; // restarts the highlight
        card.root.classList.add('changed');
      }
    }
  }, (err) => notice(`Live updates stopped: ${err.message}`));
}

// ---- projects and the board -------------------------------------------------------------------

function renderProjects() {
  $('projects').replaceChildren(...state.projects.map((p) => el('li', {},
    el('a', { href: `#/${p.id}`, 'data-project': p.id, text: p.name }))));
}

function markProject() {
  for (const a of $('projects').querySelectorAll('a')) {
    if (a.dataset.project === state.project?.id) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function openProject(id) {
  if (state.project?.id === id) return;
  loadBoard(id, { refetch: false });
  subscribe(id);
}

// loadBoard reads a project's phases and every task the viewer sees in it; refetch keeps the
// cards on the screen (and what has focus) and only brings them up to date.
async function loadBoard(id, { refetch }) {
  const ask = ++state.loading;
  $('phases').setAttribute('aria-busy', 'true');
  let project;
  const tasks = [];
  try {
    let after = null;
    for (let page = 0; page < 20; page++) {
      const data = await request(endpoint, state.token, BOARD, { id, after });
      project = data.project;
      tasks.push(...project.tasks.nodes);
      if (!project.tasks.pageInfo.hasNextPage) break;
      after = project.tasks.pageInfo.endCursor;
    }
  } catch (err) {
    if (ask !== state.loading) return;
    $('phases').setAttribute('aria-busy', 'false');
    if (err.code === 'UNAUTHENTICATED') showSignIn('The token stopped working. Sign in again.');
    else notice(`The board could not be read: ${err.message}`);
    return;
  }
  if (ask !== state.loading) return;
  $('phases').setAttribute('aria-busy', 'false');
  const samePhases = refetch && state.project?.id === id &&
    state.project.phases.map((p) => p.id).join() === project.phases.map((p) => p.id).join() &&
    tasks.every((t) => state.cards.has(t.id)) && tasks.length === state.tasks.size;
  if (samePhases) {
    for (const t of tasks) applyTask(t, { force: true });
    return;
  }
  state.project = { id: project.id, name: project.name, phases: project.phases };
  state.tasks = new Map(tasks.map((t) => [t.id, t]));
  renderBoard();
}

function renderBoard() {
  const p = state.project;
  document.title = `${p.name} · taskql board`;
  $('board-title').textContent = p.name;
  notice('');
  markProject();
  state.cards.clear();
  const phases = [...p.phases].sort((a, b) => a.position - b.position);
  $('phases').replaceChildren(...phases.map((phase) => {
    const titleId = `phase-${phase.id}`;
    const tasks = [...state.tasks.values()].filter((t) => t.phase.id === phase.id);
    return el('section', { class: `phase${phase.internal ? ' internal' : ''}`, 'aria-labelledby': titleId, 'data-phase': phase.id },
      el('h2', { id: titleId },
        phase.name,
        phase.internal ? el('span', { class: 'badge', text: 'Internal · agency only' }) : null),
      tasks.length === 0
        ? el('p', { class: 'empty', text: 'No tasks.' })
        : el('ul', { class: 'tasks' }, ...tasks.map((t) => el('li', {}, card(t)))));
  }));
}

// card makes a task's card; updateCard brings its changing parts up to date.
function card(task) {
  const parts = {};
  const titleId = `task-${task.id}`;
  parts.status = el('span', { class: 'status' });
  parts.assignees = el('ul', { class: 'assignees', 'aria-label': 'Assignees' });
  parts.assign = el('button', { type: 'button', class: 'assign', 'aria-expanded': 'false', onclick: () => openPicker(task.id) }, 'Assign…');
  parts.clear = el('button', { type: 'button', class: 'clear', onclick: () => mutate(task.id, { kind: 'clear' }) }, 'Clear');
  parts.clear.setAttribute('aria-label', `Clear every assignee of “${task.label}”`);
  parts.slot = el('div', { class: 'picker-slot' });
  parts.alert = el('div', { class: 'card-alert', role: 'alert' });
  parts.root = el('article', { class: 'card', 'aria-labelledby': titleId, 'data-task': task.id },
    el('h3', { id: titleId, text: task.label }),
    el('p', { class: 'meta' }, parts.status),
    parts.assignees,
    el('div', { class: 'actions' }, parts.assign, parts.clear),
    parts.slot,
    parts.alert);
  parts.root.addEventListener('animationend', () => parts.root.classList.remove('changed'));
  state.cards.set(task.id, parts);
  updateCard(task);
  return parts.root;
}

function updateCard(task) {
  const parts = state.cards.get(task.id);
  if (!parts) return;
  parts.root.dataset.version = task.version ?? '';
  parts.status.textContent = STATUS_WORDS[task.status] ?? task.status;
  parts.status.dataset.status = task.status;
  const focused = parts.assignees.contains(document.activeElement) ? document.activeElement.dataset.userId : null;
  parts.assignees.replaceChildren(...(task.assignees.length === 0
    ? [el('li', { class: 'nobody', text: 'Nobody assigned' })]
    : task.assignees.map((u, i) => el('li', { 'data-user-id': u.id },
      el('span', { class: 'assignee-name', text: u.name }),
      i === 0 ? el('span', { class: 'primary', text: ' (primary)' }) : null,
      el('button', {
        type: 'button', class: 'unassign', 'data-user-id': u.id, 'aria-label': `Unassign ${u.name} from “${task.label}”`,
        onclick: () => mutate(task.id, { kind: 'unassign', user: u }),
      }, '×')))));
  parts.clear.hidden = task.assignees.length === 0;
  if (focused) {
    const again = parts.assignees.querySelector(`button[data-user-id="${CSS.escape(focused)}"]`);
    (again ?? parts.assign).focus();
  }
}

// applyTask takes a task's newer state (a mutation's answer, a change heard, a refetch) and shows
// it; an older state than the one shown is dropped. It tells whether the card changed.
function applyTask(task, { force = false } = {}) {
  const known = state.tasks.get(task.id);
  if (!known) return false;
  if (!force && stamp(task.modifiedAt) < stamp(known.modifiedAt)) return false;
  state.tasks.set(task.id, task);
  updateCard(task);
  return true;
}

// ---- the picker ---------------------------------------------------------------------------------

function openPicker(taskId) {
  const parts = state.cards.get(taskId);
  if (parts.picker) {
    parts.picker.focus();
    return;
  }
  const task = state.tasks.get(taskId);
  const closePicker = () => {
    parts.slot.replaceChildren();
    parts.picker = null;
    parts.assign.setAttribute('aria-expanded', 'false');
    parts.assign.focus();
  };
  parts.picker = createPicker({
    taskLabel: task.label,
    search: async (text) => {
      const data = await request(endpoint, state.token, CANDIDATES, { id: taskId, search: text || null });
      const assigned = new Set(state.tasks.get(taskId).assignees.map((u) => u.id));
      return data.task.assignableUsers.nodes.map((u) => ({
        id: u.id, name: u.name, email: u.email, load: u.openAssignedCount, assigned: assigned.has(u.id),
      }));
    },
    pick: (user) => {
      closePicker();
      mutate(taskId, { kind: 'assign', user });
    },
    close: closePicker,
  });
  parts.slot.replaceChildren(parts.picker.element);
  parts.assign.setAttribute('aria-expanded', 'true');
  parts.picker.focus();
}

// ---- changes ------------------------------------------------------------------------------------

function describe(intent) {
  switch (intent.kind) {
    case 'assign': return `assign ${intent.user.name}`;
    case 'unassign': return `unassign ${intent.user.name}`;
    default: return 'clear every assignee';
  }
}

// mutate makes a change to a task, conditional on the version the card shows.
async function mutate(taskId, intent) {
  const parts = state.cards.get(taskId);
  const task = state.tasks.get(taskId);
  if (!parts || !task) return;
  parts.alert.replaceChildren();
  const variables = { taskId, ifVersion: task.version };
  if (intent.kind === 'assign') variables.userIds = [intent.user.id];
  if (intent.kind === 'unassign') variables.userId = intent.user.id;
  parts.root.setAttribute('aria-busy', 'true');
  mark('taskql:mutation', { taskId, kind: intent.kind });
  try {
    const data = await request(endpoint, state.token, MUTATIONS[intent.kind], variables);
    const next = Object.values(data)[0];
    applyTask(next);
    announce(`Done: ${describe(intent)} on “${task.label}”.`);
  } catch (err) {
    if (err.code === 'CONFLICT') await showConflict(taskId, task, intent);
    else if (err.code === 'UNPROCESSABLE') showViolations(taskId, intent, err);
    else if (err.code === 'UNAUTHENTICATED') showSignIn('The token stopped working. Sign in again.');
    else showAlert(taskId, 'error', [el('p', { text: `Could not ${describe(intent)}: ${err.message}` })]);
  } finally {
    parts.root.removeAttribute('aria-busy');
  }
}

function showAlert(taskId, kind, content, actions = []) {
  const parts = state.cards.get(taskId);
  if (!parts) return;
  const dismiss = el('button', { type: 'button', onclick: () => { parts.alert.replaceChildren(); parts.assign.focus(); } }, 'Dismiss');
  parts.alert.replaceChildren(el('div', { class: `alert ${kind}`, 'data-kind': kind },
    ...content, el('div', { class: 'alert-actions' }, ...actions, dismiss)));
}

// showConflict says what changed since the card was drawn (the task's assignees now against those
// shown), shows the task as it is, and offers to make the change again on this version.
async function showConflict(taskId, before, intent) {
  let now;
  try {
    now = (await request(endpoint, state.token, TASK_NOW, { id: taskId })).task;
  } catch (err) {
    showAlert(taskId, 'conflict', [el('p', { text: `“${before.label}” changed since you saw it, and could not be read again: ${err.message}` })]);
    return;
  }
  const had = new Set(before.assignees.map((u) => u.id));
  const has = new Set(now.assignees.map((u) => u.id));
  const added = now.assignees.filter((u) => !had.has(u.id));
  const removed = before.assignees.filter((u) => !has.has(u.id));
  const changes = [];
  if (added.length) changes.push(el('li', { text: `${names(added)} ${added.length === 1 ? 'was' : 'were'} assigned` }));
  if (removed.length) changes.push(el('li', { text: `${names(removed)} ${removed.length === 1 ? 'was' : 'were'} unassigned` }));
  if (!changes.length) changes.push(el('li', { text: 'its assignees were changed, and are now as before' }));
  applyTask(now, { force: true });
  const retry = el('button', { type: 'button', class: 'retry', onclick: () => mutate(taskId, intent) }, `Retry: ${describe(intent)}`);
  showAlert(taskId, 'conflict', [
    el('p', {}, el('strong', { text: 'Someone else changed this task first. ' }), `Since you saw “${before.label}”:`),
    el('ul', { class: 'changes' }, ...changes),
    el('p', { text: `Your change (${describe(intent)}) was not made. The card now shows the task as it is.` }),
  ], [retry]);
  retry.focus();
}

// showViolations lists each offending user with its reason, in words.
function showViolations(taskId, intent, err) {
  const known = new Map();
  for (const t of state.tasks.values()) for (const u of t.assignees) known.set(u.id, u.name);
  if (intent.user) known.set(intent.user.id, intent.user.name);
  const violations = err.extensions.violations ?? (err.extensions.userIds ?? []).map((userId) => ({ userId }));
  showAlert(taskId, 'violation', [
    el('p', {}, el('strong', { text: `Could not ${describe(intent)}.` }), ' Nothing was changed:'),
    el('ul', { class: 'violations' }, ...violations.map((v) => el('li', { 'data-user-id': v.userId, 'data-reason': v.reason ?? '' },
      el('strong', { text: known.get(v.userId) ?? v.userId }), ` ${REASONS[v.reason] ?? 'may not be assigned to this task'}.`))),
  ]);
}

// ---- wiring ---------------------------------------------------------------------------------------

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  signIn($('token').value);
});
$('sign-out').addEventListener('click', signOut);
window.addEventListener('hashchange', () => {
  const id = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
  if (state.viewer && state.projects.some((p) => p.id === id)) openProject(id);
});

const token = loadToken();
if (token) signIn(token);
else showSignIn();

