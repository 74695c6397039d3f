// taskql's playground: GraphiQL (vendor/graphiql.min.js, GraphiQL 3's UMD bundle on React 18's
// UMD builds, all served by taskql itself) with the viewer's token on every request it makes.
//
// The token is the one typed in the bar (kept in localStorage), else the demo token the server
// offers in the page's settings (development mode, demo world loaded, token still working). It
// goes as "Authorization: Bearer <token>" on every HTTP request, the schema's introspection
// included, and as {"Authorization": "Bearer <token>"} in connection_init of the subscriptions,
// which run over graphql-ws (graphql-transport-ws) at ws(s)://<this host>/query. An Authorization
// header typed in GraphiQL's Headers tab takes its place. Changing the token fetches the schema
// again with it.
(function () {
  'use strict';

  const settings = JSON.parse(document.querySelector('meta[name="taskql-playground"]').content);
  const stored = 'taskql-playground:token';
  const demo = bearer(settings.demoAuthorization || '');
  const endpoint = settings.endpoint || '/query';
  const socket = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + endpoint;

  // GraphiQL's dialogs (settings, shortcuts) add <style> elements: with the page's nonce, the
  // Content-Security-Policy lets them.
  if (settings.styleNonce) window.__webpack_nonce__ = settings.styleNonce;

  const defaultQuery = `# Welcome to taskql's playground.
#
# The token in the bar above is sent as "Authorization: Bearer <token>" with
# every request (the schema's too) and in connection_init of subscriptions.
# The Docs pane (the book icon, left) is the API's reference.
#
# Run a query with Ctrl-Enter:

{
  viewer { id name }
  tasks(first: 5) {
    nodes { id label status assignees { id name } }
  }
}
`;

  function bearer(authorization) {
    return authorization.replace(/^Bearer\s+/i, '').trim();
  }

  function load() {
    try {
      return localStorage.getItem(stored) || '';
    } catch {
      return '';
    }
  }

  // save keeps a token the user chose; the demo token, or none, is not kept (the server offers
  // the demo token itself, for as long as it works).
  function save(token) {
    try {
      if (token && token !== demo) localStorage.setItem(stored, token);
      else localStorage.removeItem(stored);
    } catch {
      // no storage (a private window): the token lasts as long as the page
    }
  }

  const http = GraphiQL.createFetcher({ url: endpoint, subscriptionUrl: socket });

  // fetcherFor sends token with every request GraphiQL makes. GraphiQL passes the Headers tab's
  // headers in opts.headers: to its HTTP requests, and to connection_init for a subscription.
  function fetcherFor(token) {
    return function fetcher(params, opts) {
      const headers = Object.assign({}, opts && opts.headers);
      if (token && !Object.keys(headers).some((k) => k.toLowerCase() === 'authorization')) {
        headers.Authorization = 'Bearer ' + token;
      }
      return http(params, Object.assign({}, opts, { headers }));
    };
  }

  const form = document.getElementById('taskql-token');
  const input = document.getElementById('taskql-token-input');
  const demoButton = document.getElementById('taskql-demo-token');
  const viewer = document.getElementById('taskql-viewer');
  const root = ReactDOM.createRoot(document.getElementById('taskql-graphiql'));
  let token = '';
  let asked = 0;

  function use(next) {
    token = next.trim();
    save(token);
    input.value = token;
    demoButton.hidden = !demo || token === demo;
    const h = React.createElement;
    root.render(h(GraphiQL, { fetcher: fetcherFor(token), defaultQuery }, h(GraphiQL.Logo, null, 'taskql')));
    who(token);
  }

  // who says whose token it is, or why it is refused.
  async function who(token) {
    const ask = ++asked;
    const say = (text, refused) => {
      if (ask !== asked) return;
      viewer.textContent = text;
      viewer.classList.toggle('taskql-refused', refused);
    };
    if (!token) {
      say('No token: every request is UNAUTHENTICATED. Paste one above.', true);
      return;
    }
    say('…', false);
    try {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + token },
        body: JSON.stringify({ query: '{ viewer { id name } }' }),
      });
      const body = await res.json();
      const v = body.data && body.data.viewer;
      if (v) {
        say(`as ${v.name} (${v.id})${token === demo ? ', the demo token' : ''}`, false);
      } else {
        const e = (body.errors && body.errors[0]) || {};
        say(`token refused: ${(e.extensions && e.extensions.code) || res.status} ${e.message || ''}`.trim(), true);
      }
    } catch (err) {
      say(`the server did not answer: ${err.message}`, true);
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    use(input.value || demo);
  });
  demoButton.addEventListener('click', () => use(demo));

  use(load() || demo);
})();
