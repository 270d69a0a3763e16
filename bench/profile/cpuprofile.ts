/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): where the main thread's samples went, by function
 * (self time) and by category (fs, http/net, crypto, GC, koa, level, Arca's own code …), as Markdown.
 *
 *   node dist/bench/profile/cpuprofile.js FILE.cpuprofile [--top 25]
 *
 * Only the main thread is sampled: work on libuv's thread pool (fs calls, fsync, crypto.pbkdf2, zlib) shows up
 * here only as the JS that starts and completes it, and a sample is taken on wall-clock ticks, so on a busy
 * 2-core machine a function that makes a syscall is charged the time it waited to be scheduled again.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface FunctionTime {
  name: string;
  /** `file:line` (file shortened to the part after dist/ or node_modules/). */
  where: string;
  category: string;
  selfMs: number;
}

export interface ProfileSummary {
  /** Wall time the profile covers. */
  totalMs: number;
  /** Time the main thread was idle (waiting in epoll). */
  idleMs: number;
  /** Busy time by category, largest first. */
  categories: Array<{ category: string; selfMs: number }>;
  /** Functions by self time, largest first. */
  functions: FunctionTime[];
}

/** Shortens a script URL: `file:///x/dist/storage-nodes/a.js` → `storage-nodes/a.js`; `node:fs` stays. */
export function shortUrl(url: string): string {
  if (url === '') return '';
  const dist = url.lastIndexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 6);
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + 14);
  return url.replace(/^file:\/\//, '');
}

/** Native fs binding calls (their JS-side frames have no URL): the main thread's half of a thread-pool trip. */
const FS_BINDINGS = new Set([
  'open',
  'openFileHandle',
  'close',
  'fsync',
  'fdatasync',
  'readdir',
  'mkdir',
  'rename',
  'unlink',
  'rmdir',
  'fstat',
  'stat',
  'lstat',
  'read',
  'writeBuffers',
  'writeString',
  'access',
  'ftruncate',
  'realpath',
]);
/** Native socket writes (stream_wrap); `writeBuffer` is also an fs binding, but on these servers it is mostly sockets. */
const SOCKET_WRITES = new Set(['writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String', 'writeAsciiString', 'writeUcs2String', 'shutdown']);

/** The category of a frame: what kind of work its self time is. */
export function categoryOf(f: CallFrame): string {
  const { functionName: fn, url } = f;
  if (url === '' && FS_BINDINGS.has(fn)) return 'fs binding calls';
  if (url === '' && SOCKET_WRITES.has(fn)) return 'socket writes';
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle';
  if (fn === '(program)') return 'native (V8/libuv, outside JS)';
  if (fn === '(root)') return 'native (V8/libuv, outside JS)';
  if (/^(parse|stringify)$/.test(fn) && url === '') return 'JSON';
  if (url.startsWith('node:fs') || url.startsWith('node:internal/fs')) return 'fs (JS side)';
  if (url.includes('crypto') || /^(update|digest|createHash|Hash|Hmac)$/.test(fn)) return 'crypto';
  if (/^node:(_http|http|https|net|internal\/http|internal\/net|_stream|stream|internal\/streams|internal\/stream_base)/.test(url)) return 'http/net/streams';
  if (/node_modules\/(koa|@koa|koa-compose|http-errors|statuses|type-is|mime|negotiator|accepts|cookies|content-disposition|path-to-regexp)/.test(url)) return 'koa';
  if (/node_modules\/(level|classic-level|abstract-level|level-transcoder|module-error|maybe-combine-errors)/.test(url)) return 'level';
  if (/node_modules\/(xxhash-wasm|hash-wasm|@node-rs)/.test(url) || url.startsWith('wasm://')) return 'hashing (wasm/native)';
  if (url.includes('/dist/storage-nodes/')) return 'Arca storage-nodes/';
  if (url.includes('/dist/src/s3/')) return 'Arca src/s3/';
  if (url.includes('/dist/src/proxy/')) return 'Arca src/proxy/';
  if (url.includes('/dist/src/')) return 'Arca src/ (other)';
  if (url.includes('/dist/ring/')) return 'Arca ring/';
  if (url.startsWith('node:')) return 'node (other builtins)';
  if (url.includes('/node_modules/')) return 'dependencies (other)';
  if (url === '') return 'V8 builtins';
  return 'other';
}

/** Self time per profile node: from the samples and their time deltas when present, else from hit counts. */
function selfTimes(p: CpuProfile): Map<number, number> {
  const self = new Map<number, number>();
  if (p.samples && p.timeDeltas && p.samples.length === p.timeDeltas.length && p.samples.length > 0) {
    // timeDeltas[i] is the time before sample i; charge each sample the interval that follows it.
    for (let i = 0; i < p.samples.length; i++) {
      const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
      self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + dt);
    }
    return self;
  }
  const hits = p.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
  const perHit = hits > 0 ? (p.endTime - p.startTime) / 1000 / hits : 0;
  for (const n of p.nodes) self.set(n.id, (n.hitCount ?? 0) * perHit);
  return self;
}

export function summarize(p: CpuProfile): ProfileSummary {
  const self = selfTimes(p);
  const byFunction = new Map<string, FunctionTime>();
  const byCategory = new Map<string, number>();
  let idleMs = 0;
  for (const n of p.nodes) {
    const ms = self.get(n.id) ?? 0;
    if (ms === 0) continue;
    const category = categoryOf(n.callFrame);
    if (category === 'idle') {
      idleMs += ms;
      continue;
    }
    byCategory.set(category, (byCategory.get(category) ?? 0) + ms);
    const where = n.callFrame.url ? `${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}` : '';
    const name = n.callFrame.functionName || '(anonymous)';
    const key = `${name}@${where}`;
    const f = byFunction.get(key);
    if (f) f.selfMs += ms;
    else byFunction.set(key, { name, where, category, selfMs: ms });
  }
  return {
    totalMs: (p.endTime - p.startTime) / 1000,
    idleMs,
    categories: [...byCategory].map(([category, selfMs]) => ({ category, selfMs })).sort((a, b) => b.selfMs - a.selfMs),
    functions: [...byFunction.values()].sort((a, b) => b.selfMs - a.selfMs),
  };
}

const f1 = (x: number) => x.toFixed(1);

/** The summary as Markdown: busy share per category and the top functions by self time. */
export function renderSummary(s: ProfileSummary, top = 25): string {
  const busy = s.totalMs - s.idleMs;
  const pct = (ms: number) => (busy > 0 ? `${f1((100 * ms) / busy)} %` : '–');
  const lines = [
    `profile ${f1(s.totalMs)} ms, main thread busy ${f1(busy)} ms (${s.totalMs > 0 ? f1((100 * busy) / s.totalMs) : '–'} %), idle ${f1(s.idleMs)} ms`,
    '',
    '| category | self ms | of busy |',
    '|---|--:|--:|',
    ...s.categories.map((c) => `| ${c.category} | ${f1(c.selfMs)} | ${pct(c.selfMs)} |`),
    '',
    '| function | where | category | self ms | of busy |',
    '|---|---|---|--:|--:|',
    ...s.functions.slice(0, top).map((f) => `| ${f.name} | ${f.where} | ${f.category} | ${f1(f.selfMs)} | ${pct(f.selfMs)} |`),
  ];
  return lines.join('\n');
}

const isMain = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
if (isMain) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  const topAt = args.indexOf('--top');
  if (!file) {
    process.stderr.write('usage: node dist/bench/profile/cpuprofile.js FILE.cpuprofile [--top 25]\n');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  process.stdout.write(`${renderSummary(summarize(profile), topAt >= 0 ? Number(args[topAt + 1]) : 25)}\n`);
}
