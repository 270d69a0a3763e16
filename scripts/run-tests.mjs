#!/usr/bin/env node
// Builds (tsc), then runs the ava suite with TAP output, passes it through, and ends with one plain line
// `N passed, N failed` (what CI reads). Extra arguments go to ava (files, --match …).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const tsc = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (tsc.status !== 0) {
  process.stdout.write('\nbuild failed\n0 passed, 1 failed\n');
  process.exit(1);
}
// The example and test hooks (AssemblyScript → dist/hooks), when missing or older than their sources.
const hooks = spawnSync(process.execPath, ['scripts/build-hooks.mjs', '--if-missing'], { stdio: 'inherit' });
if (hooks.status !== 0) {
  process.stdout.write('\nhook build failed\n0 passed, 1 failed\n');
  process.exit(1);
}
// Every temp dir the tests and the clients they run make (clusters, HOMEs, files) goes under one scratch dir,
// removed at the end: tests that stop early, and tools that leave files behind, do not fill /tmp run after run.
// ARCA_KEEP_TEST_TMP=1 keeps it for a look.
const scratch = mkdtempSync(join(tmpdir(), 'arca-tests-'));
const child = spawn('npx', ['ava', '--tap', ...process.argv.slice(2)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TMPDIR: scratch } });
let pass = 0;
let fail = 0;
let buffered = '';
child.stdout.on('data', (data) => {
  process.stdout.write(data);
  buffered += data.toString();
  const lines = buffered.split('\n');
  buffered = lines.pop();
  for (const line of lines) {
    let m = /^# pass (\d+)/.exec(line);
    if (m) pass = Number(m[1]);
    m = /^# fail (\d+)/.exec(line);
    if (m) fail = Number(m[1]);
  }
});
child.on('exit', (code) => {
  if (!process.env.ARCA_KEEP_TEST_TMP) rmSync(scratch, { recursive: true, force: true });
  // A crash before any summary still has to read as a failure.
  if (code !== 0 && fail === 0) fail = 1;
  process.stdout.write(`\n${pass} passed, ${fail} failed\n`);
  process.exit(code ?? 1);
});
