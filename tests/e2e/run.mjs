#!/usr/bin/env node
// Runs the end-to-end suite against each real runtime named on the command line
// (default: all), the same test files for each, and fails if any run fails.
//   node tests/e2e/run.mjs [worker|spin ...] [-- [file.test.mjs ...] [node --test flags]]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportStatusCoverage } from './status_coverage.mjs';
import { runtimes } from './runtimes.mjs';

const dir = import.meta.dirname;
// Runtimes before `--`; after it, test files (all when none) and node --test flags.
const dashes = process.argv.indexOf('--');
const ours = dashes < 0 ? process.argv.slice(2) : process.argv.slice(2, dashes);
const extra = dashes < 0 ? [] : process.argv.slice(dashes + 1);
const names = ours.filter((a) => !a.startsWith('-'));
const selected = names.length ? names : Object.keys(runtimes);
const chosen = extra.filter((a) => a.endsWith('.test.mjs'));
const flags = extra.filter((a) => !a.endsWith('.test.mjs'));
const files = chosen.length
  ? chosen
  : readdirSync(dir).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => join(dir, f));

let failed = false;
for (const name of selected) {
  const start = runtimes[name];
  if (!start) throw new Error(`unknown runtime ${name}; known: ${Object.keys(runtimes)}`);
  console.log(`\n=== end-to-end suite against ${name} ===`);
  const runtime = await start();
  // What the runtime answered, for the status coverage (tests/e2e/status_coverage.mjs).
  const recordDir = mkdtempSync(join(tmpdir(), 'edge-mfa-statuses-'));
  const recorded = join(recordDir, 'statuses.jsonl');
  writeFileSync(recorded, '');
  try {
    const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...flags, ...files], {
      stdio: 'inherit',
      env: { ...process.env, EDGE_MFA_BASE_URL: runtime.baseUrl, EDGE_MFA_OPERATOR_KEY: runtime.operatorKey, EDGE_MFA_RUNTIME: name, EDGE_MFA_STATUS_LOG: recorded },
    });
    if (r.status !== 0) {
      failed = true;
      console.error(`--- ${name} failed; its log follows ---\n${runtime.log().slice(-20000)}`);
    } else if (!chosen.length) {
      // The whole suite ran: every documented status answered or explained.
      if (!reportStatusCoverage(recorded, name)) failed = true;
    }
  } finally {
    await runtime.stop();
    if (process.env.EDGE_MFA_KEEP_STATUSES) console.log(`statuses recorded in ${recorded}`);
    else rmSync(recordDir, { recursive: true, force: true });
  }
}
process.exit(failed ? 1 : 0);
