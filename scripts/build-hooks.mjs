#!/usr/bin/env node
// Builds the AssemblyScript hooks in hooks/ (examples) and hooks/test/ (broken ones for tests) into
// dist/hooks/[test/]NAME.wasm beside their manifests NAME.json, with the flags the hook ABI needs: the
// memory is imported (the host caps it), the stub runtime (no GC: hooks use static buffers), no asserts.
// Run by `npm run build:hooks` (and so by `npm ci` through `prepare`). With --if-missing it builds only
// when an output is missing or older than its sources.
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import asc from 'assemblyscript/asc';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const ifMissing = process.argv.includes('--if-missing');
const libMtime = statSync(join(root, 'hooks/lib/arca.ts')).mtimeMs;
let failed = false;
for (const sub of ['', 'test']) {
  const src = join(root, 'hooks', sub);
  const out = join(root, 'dist/hooks', sub);
  mkdirSync(out, { recursive: true });
  for (const file of readdirSync(src)) {
    if (!file.endsWith('.ts')) continue;
    const name = file.slice(0, -3);
    const wasm = join(out, `${name}.wasm`);
    const manifest = join(src, `${name}.json`);
    if (existsSync(manifest)) copyFileSync(manifest, join(out, `${name}.json`));
    if (ifMissing && existsSync(wasm) && statSync(wasm).mtimeMs > Math.max(statSync(join(src, file)).mtimeMs, libMtime)) continue;
    const { error, stderr } = await asc.main([join(src, file), '-o', wasm, '--importMemory', '--runtime', 'stub', '-O3', '--noAssert'], {});
    if (error) {
      failed = true;
      process.stderr.write(`hooks/${sub ? `${sub}/` : ''}${file}: ${error.message}\n${stderr.toString()}\n`);
    }
  }
}
process.exit(failed ? 1 : 0);
