// `npm test --prefix clients`: taskql checked by real GraphQL clients and tools. It starts
// `taskql serve` on a fresh SQLite database with the demo world (lib/server.mjs), runs the suites
// one after the other against it, stops it, and prints a summary. Every wait is bounded, each
// suite by SUITE_TIMEOUT_MS and the whole run by GLOBAL_TIMEOUT_MS.
//
//   node run.mjs [SUITE ...]      (all of them, in the order below, without arguments)
//
// Exits 0 when every suite passed, 1 when one failed, 2 on bad arguments. The browser test and
// graphql-ws.mjs are run by Go tests, not here.

import { performance } from 'node:perf_hooks';
import { Failure, within } from './lib/check.mjs';
import { makeTempDir, startTaskql, taskqlBinary } from './lib/server.mjs';
import * as conformance from './suites/conformance.mjs';
import * as apollo from './suites/apollo.mjs';
import * as graphqlRequest from './suites/graphql-request.mjs';
import * as wsProtocol from './suites/ws-protocol.mjs';
import * as schemaLint from './suites/schema-lint.mjs';
import * as schemaSnapshot from './suites/schema-snapshot.mjs';

const GLOBAL_TIMEOUT_MS = 540_000; // under the `timeout 600` of .ci/run, build included
const SUITE_TIMEOUT_MS = 120_000;

// Each suite exports title and run(ctx), which returns a one-line summary or throws; needsServer
// is false for those that read files only.
const SUITES = {
  conformance,
  apollo,
  'graphql-request': graphqlRequest,
  'ws-protocol': wsProtocol,
  'schema-lint': schemaLint,
  'schema-snapshot': schemaSnapshot,
};

const usage = `usage: node run.mjs [SUITE ...]   (npm test --prefix clients [-- SUITE ...])
  SUITE        one of ${Object.keys(SUITES).join(', ')}; all, in this order, by default
environment:
  TASKQL_BIN   the taskql binary to serve (default: go build of the repository into a temporary directory)
  TASKQL_URL   the base URL of a running taskql with the demo world (e.g. http://127.0.0.1:8080), instead
               of starting one`;

const args = process.argv.slice(2);
if (args.includes('-h') || args.includes('--help')) {
  console.log(usage);
  process.exit(0);
}
const unknown = args.filter((a) => !(a in SUITES));
if (unknown.length > 0) {
  console.error(`unknown suite ${unknown.join(', ')}\n${usage}`);
  process.exit(2);
}
const selected = args.length > 0 ? args : Object.keys(SUITES);

const started = performance.now();
const seconds = (from) => `${((performance.now() - from) / 1000).toFixed(1)} s`;
const results = []; // { name, ok, summary, time }
let server = null;
let temp = null;

// cleanUp stops our server (by its pid) and removes its directory; it runs once.
let cleaning = null;
function cleanUp() {
  cleaning ??= (async () => {
    if (server) console.log(`taskql (pid ${server.pid}): ${await server.stop()}`);
    await temp?.remove();
  })();
  return cleaning;
}

function printSummary() {
  console.log(`\n== summary (${seconds(started)} in all)`);
  for (const r of results) {
    const [first, ...more] = r.summary.split('\n');
    console.log(`  ${r.ok ? 'ok  ' : 'FAIL'}  ${r.name.padEnd(16)} ${first} (${r.time})`);
    for (const line of more) console.log(`        ${' '.repeat(16)} ${line}`);
  }
  const failed = results.filter((r) => !r.ok).map((r) => r.name);
  // The server's log helps with a failure that involved it (not with the linter's).
  if (server && results.some((r) => !r.ok && SUITES[r.name].needsServer !== false)) {
    console.log(`\n== taskql's log (pid ${server.pid}), last lines\n${server.log().split('\n').slice(-30).join('\n')}`);
  }
  const skipped = selected.filter((n) => !results.some((r) => r.name === n));
  if (skipped.length > 0) console.log(`  not run: ${skipped.join(', ')}`);
  console.log(failed.length === 0 && skipped.length === 0 ? 'PASS' : `FAIL: ${[...failed, ...skipped].join(', ')}`);
  return failed.length === 0 && skipped.length === 0;
}

const globalTimer = setTimeout(async () => {
  console.error(`\nFAIL: the run took more than ${GLOBAL_TIMEOUT_MS / 1000} s`);
  printSummary();
  await Promise.race([cleanUp(), new Promise((r) => setTimeout(r, 20_000))]);
  process.exit(1);
}, GLOBAL_TIMEOUT_MS);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    console.error(`\n${signal}: stopping`);
    await cleanUp();
    process.exit(1);
  });
}

async function main() {
  let baseUrl = process.env.TASKQL_URL?.replace(/\/+$/, '');
  if (!baseUrl && selected.some((n) => SUITES[n].needsServer !== false)) {
    temp = await makeTempDir();
    const bin = await taskqlBinary(temp.dir, (l) => console.log(l));
    const t = performance.now();
    server = await startTaskql(bin, temp.dir);
    baseUrl = server.baseUrl;
    console.log(`taskql serve (pid ${server.pid}) at ${baseUrl}, demo world on ${temp.dir}/x.db, in ${seconds(t)}`);
  } else if (baseUrl) {
    console.log(`TASKQL_URL: the running taskql at ${baseUrl}`);
  }
  const ctx = { baseUrl, queryUrl: `${baseUrl}/query`, wsUrl: `${baseUrl?.replace(/^http/, 'ws')}/query` };
  for (const name of selected) {
    const suite = SUITES[name];
    console.log(`\n== ${name}: ${suite.title}`);
    const t = performance.now();
    const log = (line) => console.log(`[${name}] ${line.replaceAll('\n', `\n[${name}] `)}`);
    try {
      const summary = await within(suite.run({ ...ctx, log }), SUITE_TIMEOUT_MS, `the suite ${name}`);
      results.push({ name, ok: true, summary, time: seconds(t) });
    } catch (err) {
      const message = err instanceof Failure ? err.message : (err?.stack ?? String(err));
      console.log(`[${name}] FAIL: ${message.replaceAll('\n', `\n[${name}] `)}`);
      results.push({ name, ok: false, summary: message, time: seconds(t) });
    }
  }
}

let ok = false;
try {
  await main();
  ok = printSummary();
} catch (err) {
  console.error(`FAIL: ${err instanceof Failure ? err.message : (err?.stack ?? String(err))}`);
  printSummary();
} finally {
  await cleanUp();
  clearTimeout(globalTimer);
}
// Whatever a client library still holds (a socket, a timer) must not keep the run alive.
process.exit(ok ? 0 : 1);
