// The assignee picker: an editable combobox with a list popup (the WAI-ARIA combobox pattern).
// Typing searches the task's assignable users on the server (Task.assignableUsers, least loaded
// first, each with its open load); Down and Up move through them, Enter picks one, Escape closes
// the list, then the picker. Focus stays in the input: the active option is aria-activedescendant.

const SEARCH_DELAY_MS = 150;

let pickers = 0;

// createPicker returns the picker's element. search(text) resolves to the candidates
// [{id, name, email, load, assigned}]; pick(user) is called with the one chosen; close() when the
// picker should go away (Escape on a closed list, or leaving it).
export function createPicker({ taskLabel, search, pick, close }) {
  const n = ++pickers;
  const root = document.createElement('div');
  root.className = 'picker';
  const label = document.createElement('label');
  label.htmlFor = `picker-${n}`;
  label.textContent = `Assign someone to “${taskLabel}”`;
  label.className = 'visually-hidden';
  const input = document.createElement('input');
  input.id = `picker-${n}`;
  input.type = 'text';
  input.autocomplete = 'off';
  input.spellcheck = false;
  input.placeholder = 'Search people';
  input.setAttribute('role', 'combobox');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-expanded', 'false');
  input.setAttribute('aria-controls', `picker-${n}-list`);
  const list = document.createElement('ul');
  list.id = `picker-${n}-list`;
  list.setAttribute('role', 'listbox');
  list.setAttribute('aria-label', 'Assignable people, least loaded first');
  list.hidden = true;
  const status = document.createElement('p');
  status.className = 'visually-hidden';
  status.setAttribute('role', 'status');
  root.append(label, input, list, status);

  let candidates = [];
  let active = -1;
  let asked = 0;
  let timer;

  function setActive(i) {
    active = i;
    for (const [j, li] of [...list.children].entries()) li.setAttribute('aria-selected', String(j === i));
    if (i >= 0 && list.children[i]) {
      input.setAttribute('aria-activedescendant', list.children[i].id);
      list.children[i].scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  }

  function open(isOpen) {
    list.hidden = !isOpen;
    input.setAttribute('aria-expanded', String(isOpen));
    if (!isOpen) setActive(-1);
  }

  function render() {
    list.replaceChildren(...candidates.map((u, i) => {
      const li = document.createElement('li');
      li.id = `picker-${n}-${u.id}`;
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', 'false');
      li.dataset.userId = u.id;
      if (u.assigned) li.setAttribute('aria-disabled', 'true');
      const name = document.createElement('span');
      name.className = 'option-name';
      name.textContent = u.name;
      const load = document.createElement('span');
      load.className = 'option-load';
      load.dataset.load = String(u.load ?? '');
      load.textContent = u.assigned ? 'assigned' : u.load == null ? '' : `${u.load} open ${u.load === 1 ? 'task' : 'tasks'}`;
      li.append(name, ' ', load);
      li.addEventListener('mousedown', (e) => e.preventDefault()); // keeps focus in the input
      li.addEventListener('click', () => choose(i));
      return li;
    }));
    open(true);
    setActive(candidates.findIndex((u) => !u.assigned));
    status.textContent = candidates.length === 0 ? 'Nobody matches.' : `${candidates.length} ${candidates.length === 1 ? 'person' : 'people'}, least loaded first.`;
  }

  async function refresh() {
    const ask = ++asked;
    root.setAttribute('aria-busy', 'true');
    try {
      const text = input.value.trim();
      const found = await search(text);
      if (ask !== asked) return;
      candidates = found;
      list.dataset.search = text; // what the list shows the results of
      render();
    } catch (err) {
      if (ask !== asked) return;
      candidates = [];
      list.replaceChildren();
      open(false);
      status.textContent = `The search failed: ${err.message}`;
    } finally {
      if (ask === asked) root.removeAttribute('aria-busy');
    }
  }

  function choose(i) {
    const u = candidates[i];
    if (!u || u.assigned) return;
    open(false);
    pick(u);
  }

  function move(by) {
    if (list.hidden) {
      refresh();
      return;
    }
    if (candidates.length === 0) return;
    let i = active;
    for (let k = 0; k < candidates.length; k++) {
      i = (i + by + candidates.length) % candidates.length;
      if (!candidates[i].assigned) break;
    }
    setActive(i);
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, SEARCH_DELAY_MS);
  });
  input.addEventListener('keydown', (e) => {
    switch (e.key) {
      case 'ArrowDown':
        e.preventDefault();
        move(1);
        break;
      case 'ArrowUp':
        e.preventDefault();
        move(-1);
        break;
      case 'Enter':
        e.preventDefault();
        if (!list.hidden && active >= 0) choose(active);
        break;
      case 'Escape':
        e.preventDefault();
        if (!list.hidden) open(false);
        else close();
        break;
      default:
    }
  });
  root.addEventListener('focusout', (e) => {
    if (!root.contains(e.relatedTarget)) open(false);
  });

  return {
    element: root,
    focus() {
      input.focus();
      refresh();
    },
    // names are the candidates' names by id, for the messages about them.
    names: () => new Map(candidates.map((u) => [u.id, u.name])),
  };
}
