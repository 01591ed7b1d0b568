// Every status the OpenAPI document lists for an operation is answered somewhere
// in the end-to-end suite (its api() calls, the SDK's, schemathesis's requests),
// or tests/e2e/status-explained.json says why it is not reached there. run.mjs
// runs this after a runtime's suite passes, over what that run recorded.
//   node tests/e2e/status_coverage.mjs <recorded.jsonl> <runtime>
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

/// { unexplained: ["METHOD /template STATUS"], staleExplanations: [...] }
export function statusCoverage(recordedFile, runtime) {
  const doc = JSON.parse(readFileSync(resolve(root, 'shared/api/openapi.json'), 'utf8'));
  const explained = JSON.parse(readFileSync(resolve(import.meta.dirname, 'status-explained.json'), 'utf8'));
  // Templates with more fixed segments first: /v1/tenants/{id} before /v1/{tenant}/...
  const templates = Object.keys(doc.paths)
    .map((t) => ({ t, re: new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`), fixed: t.split('/').filter((s) => s && !s.startsWith('{')).length }))
    .sort((a, b) => b.fixed - a.fixed);
  const reached = new Set();
  for (const line of readFileSync(recordedFile, 'utf8').split('\n').filter(Boolean)) {
    const { method, path, status } = JSON.parse(line);
    const m = method === 'HEAD' ? 'GET' : method;
    const template = templates.find(({ re }) => re.test(path))?.t;
    if (template) reached.add(`${m} ${template} ${status}`);
  }
  const unexplained = [];
  const staleExplanations = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!op?.responses) continue;
      for (const status of Object.keys(op.responses).filter((s) => /^\d{3}$/.test(s))) {
        const key = `${method.toUpperCase()} ${template} ${status}`;
        const why = explained[key];
        const reachedHere = reached.has(key);
        if (!reachedHere && !(typeof why === 'string' || why?.[runtime])) unexplained.push(key);
        if (reachedHere && typeof why === 'string') staleExplanations.push(key);
      }
    }
  }
  return { unexplained, staleExplanations, reached: reached.size };
}

/// Prints what statusCoverage found; true when nothing is unexplained.
export function reportStatusCoverage(recordedFile, runtime) {
  const { unexplained, staleExplanations, reached } = statusCoverage(recordedFile, runtime);
  console.log(`status coverage (${runtime}): ${reached} operation-status pairs answered`);
  if (staleExplanations.length) console.log(`explained but answered on ${runtime} (the explanation may go):\n  ${staleExplanations.join('\n  ')}`);
  if (unexplained.length) {
    console.error(`documented statuses neither answered in the suite nor explained in tests/e2e/status-explained.json (${runtime}):\n  ${unexplained.join('\n  ')}`);
  }
  return unexplained.length === 0;
}

if (process.argv[1] === import.meta.filename) {
  const [file, runtime] = process.argv.slice(2);
  if (!reportStatusCoverage(file, runtime)) process.exit(1);
}
