// The schema clients see, held against its committed snapshot (../schema.snapshot.graphql, the
// SDL of the server's introspection): graphql-inspector diff says what changed and whether it
// breaks clients. A breaking change fails; so does any other difference, until the snapshot is
// made again (npm run snapshot --prefix clients) once the change has been reviewed.

import { execFile } from 'node:child_process';
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Failure } from '../lib/check.mjs';
import { introspectedSDL } from '../lib/schema.mjs';

export const title = 'schema snapshot: graphql-inspector diff of the introspected schema';

export const SNAPSHOT = fileURLToPath(new URL('../schema.snapshot.graphql', import.meta.url));
const INSPECTOR = fileURLToPath(new URL('../node_modules/.bin/graphql-inspector', import.meta.url));
const TIMEOUT_MS = 60_000;
const REMAKE = 'review the change, then run `npm run snapshot --prefix clients` and commit clients/schema.snapshot.graphql';

export async function run({ queryUrl, log }) {
  const current = await introspectedSDL(queryUrl);
  const snapshot = await readFile(SNAPSHOT, 'utf8').catch(() => null);
  if (snapshot === null) throw new Failure(`no ${path.basename(SNAPSHOT)}: run \`npm run snapshot --prefix clients\` and commit it`);

  // graphql-inspector runs every time, so that the tool itself is known to work before a change
  // needs it. It exits 1 on a breaking change, 0 on other changes and on none.
  const dir = await mkdtemp(path.join(tmpdir(), 'taskql-schema-'));
  let code;
  let output;
  try {
    const file = path.join(dir, 'current.graphql');
    await writeFile(file, current);
    ({ code, output } = await new Promise((resolve) => {
      execFile(INSPECTOR, ['diff', SNAPSHOT, file], { timeout: TIMEOUT_MS, env: { ...process.env, FORCE_COLOR: '0' } },
        (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 'killed') : 0, output: `${stdout}${stderr}`.trim() }));
    }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (snapshot === current && code === 0) return `the introspected schema is the snapshot (graphql-inspector: ${lastLine(output)})`;
  log(`graphql-inspector diff schema.snapshot.graphql <introspection>:\n${output}`);
  if (code !== 0 && /Detected \d+ breaking changes?/.test(output)) {
    throw new Failure(`a BREAKING change of the schema (graphql-inspector above): make it compatible, or, if it is meant, ${REMAKE}`);
  }
  if (code !== 0) throw new Failure(`graphql-inspector diff failed (exit ${code}):\n${output}`);
  // No breaking change; a change of order or layout only is not reported by graphql-inspector.
  throw new Failure(`the schema differs from its snapshot, without a breaking change: ${REMAKE}`);
}

function lastLine(text) {
  return text.split('\n').filter(Boolean).at(-1)?.replace(/^\[\w+\]\s*/, '') ?? '';
}
