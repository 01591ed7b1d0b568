#!/usr/bin/env node
// Runs the end-to-end suite against each real runtime named on the command line
// (default: all), the same test files for each, and fails if any run fails.
//   node tests/e2e/run.mjs [worker] [-- extra node --test args]
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runtimes } from './runtimes.mjs';

const dir = import.meta.dirname;
const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const selected = names.length ? names : Object.keys(runtimes);
const files = readdirSync(dir).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => join(dir, f));

let failed = false;
for (const name of selected) {
  const start = runtimes[name];
  if (!start) throw new Error(`unknown runtime ${name}; known: ${Object.keys(runtimes)}`);
  console.log(`\n=== end-to-end suite against ${name} ===`);
  const runtime = await start();
  try {
    const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], {
      stdio: 'inherit',
      env: { ...process.env, EDGE_MFA_BASE_URL: runtime.baseUrl, EDGE_MFA_OPERATOR_KEY: runtime.operatorKey, EDGE_MFA_RUNTIME: name },
    });
    if (r.status !== 0) {
      failed = true;
      console.error(`--- ${name} failed; its log follows ---\n${runtime.log().slice(-20000)}`);
    }
  } finally {
    await runtime.stop();
  }
}
process.exit(failed ? 1 : 0);
