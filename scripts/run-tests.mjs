#!/usr/bin/env node
// Builds (tsc), then runs the ava suite with TAP output, passes it through, and ends with one plain line
// `N passed, N failed` (what CI reads). Extra arguments go to ava (files, --match …).
import { spawn, spawnSync } from 'node:child_process';
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
const child = spawn('npx', ['ava', '--tap', ...process.argv.slice(2)], { stdio: ['ignore', 'pipe', 'inherit'] });
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
  // A crash before any summary still has to read as a failure.
  if (code !== 0 && fail === 0) fail = 1;
  process.stdout.write(`\n${pass} passed, ${fail} failed\n`);
  process.exit(code ?? 1);
});
