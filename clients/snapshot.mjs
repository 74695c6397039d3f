// `npm run snapshot --prefix clients`: writes schema.snapshot.graphql, the SDL of the schema a
// running taskql introspects (TASKQL_URL, or one started here as run.mjs starts it), which the
// schema-snapshot suite holds the server to. Run it after reviewing a change of the schema.

import { writeFile } from 'node:fs/promises';
import { Failure } from './lib/check.mjs';
import { introspectedSDL } from './lib/schema.mjs';
import { makeTempDir, startTaskql, taskqlBinary } from './lib/server.mjs';
import { SNAPSHOT } from './suites/schema-snapshot.mjs';

const log = (l) => console.log(l);
let server = null;
let temp = null;
let code = 0;
try {
  let baseUrl = process.env.TASKQL_URL?.replace(/\/+$/, '');
  if (!baseUrl) {
    temp = await makeTempDir();
    server = await startTaskql(await taskqlBinary(temp.dir, log), temp.dir);
    baseUrl = server.baseUrl;
  }
  const sdl = await introspectedSDL(`${baseUrl}/query`);
  await writeFile(SNAPSHOT, sdl);
  log(`wrote ${SNAPSHOT} (${sdl.length} characters) from ${baseUrl}`);
} catch (err) {
  console.error(`FAIL: ${err instanceof Failure ? err.message : (err?.stack ?? String(err))}`);
  code = 1;
} finally {
  if (server) log(`taskql (pid ${server.pid}): ${await server.stop()}`);
  await temp?.remove();
}
process.exit(code);
