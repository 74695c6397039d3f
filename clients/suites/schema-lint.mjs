// graphql-schema-linter on ../schema.graphqls with the committed configuration
// (../.graphql-schema-linterrc: every rule, except those that contradict DESIGN.md). Any problem
// fails the suite; the count is printed by rule.

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Failure } from '../lib/check.mjs';

export const title = 'graphql-schema-linter on schema.graphqls';
export const needsServer = false;

const CLIENTS = fileURLToPath(new URL('..', import.meta.url));
const LINTER = fileURLToPath(new URL('../node_modules/.bin/graphql-schema-linter', import.meta.url));
const TIMEOUT_MS = 60_000;
const SHOWN = 10; // problems printed in full; the rest are counted

export async function run({ log }) {
  // It exits 1 when it found problems: its JSON report is read either way.
  const stdout = await new Promise((resolve, reject) => {
    execFile(LINTER, ['--format', 'json'], { cwd: CLIENTS, timeout: TIMEOUT_MS, maxBuffer: 32 << 20 }, (err, out, stderr) => {
      if (err && !out) reject(new Failure(`graphql-schema-linter: ${err.message}\n${stderr}`));
      else resolve(out);
    });
  });
  let report;
  try {
    report = JSON.parse(stdout);
  } catch {
    throw new Failure(`graphql-schema-linter printed no JSON report:\n${stdout.slice(0, 2000)}`);
  }
  const problems = report.errors ?? [];
  const byRule = new Map();
  for (const p of problems) byRule.set(p.rule, (byRule.get(p.rule) ?? 0) + 1);
  for (const p of problems.slice(0, SHOWN)) log(`${p.location?.file ?? ''}:${p.location?.line}:${p.location?.column} ${p.message} (${p.rule})`);
  if (problems.length > SHOWN) log(`... and ${problems.length - SHOWN} more`);
  const counts = [...byRule].sort((a, b) => b[1] - a[1]).map(([rule, n]) => `${rule} ${n}`).join(', ');
  if (problems.length > 0) throw new Failure(`${problems.length} problems in schema.graphqls: ${counts}`);
  return '0 problems';
}
