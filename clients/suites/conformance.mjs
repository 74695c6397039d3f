// GraphQL over HTTP conformance: graphql-http's auditServer against taskql, as Ada (every audit's
// request carries her token, or it would be a 401). Known warnings and notices are data
// (../conformance-expected.json), each explained in ../../docs/CONFORMANCE.md.

import { readFile } from 'node:fs/promises';
import { auditServer } from 'graphql-http';
import { Failure } from '../lib/check.mjs';
import { authorizedFetch, TOKENS } from '../lib/http.mjs';

export const title = 'GraphQL over HTTP: graphql-http auditServer';

const EXPECTED = new URL('../conformance-expected.json', import.meta.url);

export async function run({ queryUrl, log }) {
  const expected = JSON.parse(await readFile(EXPECTED, 'utf8'));
  const results = await auditServer({ url: queryUrl, fetchFn: authorizedFetch(TOKENS.ada) });
  const counts = { ok: 0, warn: 0, notice: 0, error: 0 };
  const problems = [];
  for (const r of results) {
    counts[r.status]++;
    if (r.status === 'ok') continue;
    const listed = expected[r.status]?.[r.id];
    const res = r.response ? ` [HTTP ${r.response.status} ${r.response.headers.get('content-type')}]` : '';
    log(`${r.status} ${r.id} ${r.name}: ${r.reason}${res}${listed ? '\n    documented: ' + listed : ''}`);
    if (r.status === 'error') {
      problems.push(`MUST ${r.id} "${r.name}" fails: ${r.reason}`);
    } else if (r.name.includes('application/graphql-response+json')) {
      problems.push(`${r.id} "${r.name}" (application/graphql-response+json) must pass: ${r.reason}`);
    } else if (r.status === 'warn' && !listed) {
      problems.push(`warning ${r.id} "${r.name}" is not documented: fix it, or list it in conformance-expected.json with its reason in docs/CONFORMANCE.md`);
    }
  }
  // A documented audit that now passes (or no longer exists) is a list out of date.
  const seen = new Map(results.map((r) => [r.id, r.status]));
  for (const status of ['warn', 'notice']) {
    for (const id of Object.keys(expected[status] ?? {})) {
      if (seen.get(id) !== status) {
        problems.push(`${id} is documented as ${status} but is ${seen.get(id) ?? 'not an audit of this graphql-http'}: ` +
          'update conformance-expected.json and docs/CONFORMANCE.md');
      }
    }
  }
  const summary = `${results.length} audits: ok ${counts.ok}, warn ${counts.warn}, notice ${counts.notice}, error ${counts.error}`;
  log(summary);
  if (problems.length > 0) throw new Failure(`${summary}\n  ${problems.join('\n  ')}`);
  return summary;
}
