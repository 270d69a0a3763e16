#!/usr/bin/env node
// Import-boundary lint: the layering of docs/DESIGN (dependencies point down only) checked on every
// relative import of every TypeScript file. Prints one line per violation and exits 1 if any.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');

/** Which top-level areas a file in each area may import (besides its own area). */
const rules = [
  { area: 'ring/', may: [] },
  { area: 'src/common/', may: ['ring/'] },
  { area: 'src/erasure/', may: ['src/common/'] },
  { area: 'storage-nodes/', may: ['ring/', 'src/common/', 'src/erasure/'] },
  { area: 'src/proxy/', may: ['ring/', 'src/common/', 'src/erasure/'] },
  // API dialects reach storage only through the ObjectStore interface.
  { area: 'src/s3/', may: ['src/common/', 'src/proxy/object-store.ts'] },
  { area: 'src/images/', may: ['src/common/', 'src/proxy/object-store.ts'] },
  { area: 'src/compute/', may: ['src/common/', 'src/proxy/object-store.ts'] },
  { area: 'src/swift/', may: ['src/common/', 'src/proxy/object-store.ts'] },
  // Identities live on the ring, reached (like the dialects) only through the ObjectStore interface.
  { area: 'src/identity/', may: ['src/common/', 'src/proxy/object-store.ts'] },
  // The admin API authenticates as S3 does (SigV4 and its error catalogue) and manages identities.
  { area: 'src/admin/', may: ['src/common/', 'src/proxy/object-store.ts', 'src/identity/', 'src/s3/auth/', 'src/s3/errors.ts'] },
  { area: 'src/cli/', may: ['*'] },
  { area: 'test/', may: ['*'] },
  { area: 'bench/', may: ['*'] },
];

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

const importRe = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const problems = [];
for (const top of ['ring', 'storage-nodes', 'src', 'test', 'bench']) {
  let files;
  try { files = [...walk(join(root, top))]; } catch { continue; }
  for (const file of files) {
    const rel = relative(root, file).split(sep).join('/');
    const rule = rules.find((r) => rel.startsWith(r.area));
    if (!rule) { problems.push(`${rel}: file outside every known area`); continue; }
    if (rule.may.includes('*')) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(importRe)) {
      const spec = m[1] ?? m[2];
      if (!spec.startsWith('.')) continue;
      const target = relative(root, resolve(dirname(file), spec)).split(sep).join('/').replace(/\.js$/, '.ts');
      if (target.startsWith(rule.area)) continue;
      const ok = rule.may.some((allowed) => allowed.endsWith('/') ? target.startsWith(allowed) : target === allowed);
      if (!ok) problems.push(`${rel}: imports ${target}, but ${rule.area} may import only ${rule.may.join(', ') || 'itself'}`);
    }
  }
}
for (const p of problems) console.error(p);
if (problems.length) process.exit(1);
