// The board's two ways to the server: GraphQL over HTTP (POST /query with the token) and the
// subscription taskAssigneesChanged over WebSocket (graphql-transport-ws, through graphql-ws's own
// browser client, vendored as npm ships it), with the token in connection_init's payload.

import { createClient } from './vendor/graphql-ws/client.js';

// ApiError is a GraphQL error as the server sent it: code is extensions.code (DESIGN §3).
export class ApiError extends Error {
  constructor(message, code, extensions = {}) {
    super(message);
    this.code = code;
    this.extensions = extensions;
  }
}

// request runs one operation and returns its data, or throws the first error as an ApiError.
export async function request(endpoint, token, query, variables = {}) {
  let res;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError('the server cannot be reached', 'NETWORK');
  }
  let body;
  try {
    body = await res.json();
  } catch {
    throw new ApiError(`the server answered HTTP ${res.status}`, `HTTP_${res.status}`);
  }
  const err = body.errors?.[0];
  if (err) throw new ApiError(err.message, err.extensions?.code ?? `HTTP_${res.status}`, err.extensions ?? {});
  return body.data;
}

// socketURL is the WebSocket URL of endpoint on this page's host.
function socketURL(endpoint) {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${endpoint}`;
}

// retryDelay waits before the nth reconnection: 0.5 s doubling up to 8 s, with jitter, so that a
// server that restarts is not met by every board at once.
function retryDelay(retries) {
  const base = Math.min(8000, 500 * 2 ** retries);
  return new Promise((resolve) => setTimeout(resolve, base / 2 + Math.random() * (base / 2)));
}

// live keeps one WebSocket connection for token, reconnecting whenever it drops (except when the
// server refuses the token: 4403), and tells state(s) its state: 'connecting', 'live' (with
// retried true after a reconnection: what was sent meanwhile is lost, refetch), 'refused'.
export function live(endpoint, token, state) {
  const client = createClient({
    url: socketURL(endpoint),
    connectionParams: { Authorization: `Bearer ${token}` },
    lazy: false,
    keepAlive: 10_000,
    retryAttempts: Infinity,
    retryWait: retryDelay,
    shouldRetry: (e) => e?.code !== 4403,
    onNonLazyError: () => state('refused'),
    on: {
      connecting: () => state('connecting'),
      connected: (_socket, _payload, retried) => state('live', retried),
      closed: (e) => state(e?.code === 4403 ? 'refused' : 'connecting'),
    },
  });
  return {
    // subscribe calls next with each result's data and error with a GraphQL error; it returns
    // the function that ends the subscription.
    subscribe(query, variables, next, error) {
      return client.subscribe({ query, variables }, {
        next: (result) => {
          const err = result.errors?.[0];
          if (err) error(new ApiError(err.message, err.extensions?.code, err.extensions ?? {}));
          else next(result.data);
        },
        error: (err) => {
          if (Array.isArray(err) && err[0]) error(new ApiError(err[0].message, err[0].extensions?.code, err[0].extensions ?? {}));
          else if (err?.code === 4403) state('refused');
        },
        complete: () => {},
      });
    },
    close: () => client.dispose(),
  };
}
