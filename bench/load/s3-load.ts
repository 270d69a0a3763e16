/**
 * Arca's S3 load generator: library (`runLoad`, re-exported from ./run.js) and CLI.
 *
 *   node dist/bench/load/s3-load.js --endpoint http://127.0.0.1:8080 --access-key AK --secret-key SK \
 *     --bucket B [--create-bucket] --workload put|get|head|delete|list|mixed --size 4KiB|1MiB|64MiB \
 *     --concurrency N (--count N | --duration S) [--mix get=70,put=30] [--keys N] [--prefix P] \
 *     [--server-pids 123,456] [--server-pid-dir DIR] [--region us-east-1] [--payload unsigned|sha256] \
 *     [--timeout-ms MS] [--seed N]
 *
 * Prints exactly one JSON line (the LoadResult) on stdout; exits 0 even when ops failed (they are counted in
 * `errors`), 2 on bad arguments, 1 when setup (e.g. creating the bucket) fails. docs/benchmarks.md has it all.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pidsFromDir } from '../lib/proc.js';
import { parseSize } from '../lib/stats.js';
import { type LoadOptions, OP_KINDS, type OpKind, type PayloadMode, runLoad, type Workload, WORKLOADS } from './run.js';

export * from './run.js';

const FLAGS = new Set([
  'endpoint',
  'access-key',
  'secret-key',
  'region',
  'bucket',
  'workload',
  'size',
  'concurrency',
  'count',
  'duration',
  'mix',
  'keys',
  'prefix',
  'server-pids',
  'server-pid-dir',
  'payload',
  'timeout-ms',
  'seed',
]);
const SWITCHES = new Set(['create-bucket']);

export class UsageError extends Error {}

/** argv (without node and script) → LoadOptions; throws UsageError on anything it does not understand. */
export function parseArgs(argv: readonly string[]): LoadOptions {
  const values = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (SWITCHES.has(name) && eq < 0) {
      switches.add(name);
      continue;
    }
    if (!FLAGS.has(name)) throw new UsageError(`unknown option --${name}`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    values.set(name, value);
  }
  const need = (name: string): string => {
    const v = values.get(name);
    if (v === undefined) throw new UsageError(`--${name} is required`);
    return v;
  };
  const int = (name: string): number | undefined => {
    const v = values.get(name);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a non-negative integer, not '${v}'`);
    return Number(v);
  };
  const workload = need('workload') as Workload;
  if (!WORKLOADS.includes(workload)) throw new UsageError(`--workload must be one of ${WORKLOADS.join('|')}`);
  const payload = (values.get('payload') ?? 'unsigned') as PayloadMode;
  if (payload !== 'unsigned' && payload !== 'sha256') throw new UsageError('--payload must be unsigned|sha256');
  const duration = values.get('duration');
  if (duration !== undefined && !(Number(duration) > 0)) throw new UsageError(`--duration must be a positive number of seconds`);
  const count = int('count');
  if (count === undefined && duration === undefined) throw new UsageError('give --count N or --duration S (or both): runs are bounded');
  let size: number;
  try {
    size = parseSize(values.get('size') ?? '4KiB');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const serverPids = [...parsePids(values.get('server-pids')), ...(values.has('server-pid-dir') ? pidsFromDir(values.get('server-pid-dir')!) : [])];
  return {
    endpoint: need('endpoint'),
    accessKey: need('access-key'),
    secretKey: need('secret-key'),
    region: values.get('region') ?? 'us-east-1',
    bucket: need('bucket'),
    createBucket: switches.has('create-bucket'),
    workload,
    size,
    concurrency: int('concurrency') ?? 1,
    count,
    durationSec: duration === undefined ? undefined : Number(duration),
    mix: values.has('mix') ? parseMix(values.get('mix')!) : undefined,
    keys: int('keys'),
    prefix: values.get('prefix') ?? '',
    serverPids: serverPids.length > 0 ? serverPids : undefined,
    payload,
    timeoutMs: int('timeout-ms'),
    seed: int('seed'),
  };
}

/** `get=70,put=30` → `{get: 70, put: 30}`. */
export function parseMix(text: string): Partial<Record<OpKind, number>> {
  const mix: Partial<Record<OpKind, number>> = {};
  for (const part of text.split(',')) {
    const m = /^\s*(\w+)\s*=\s*(\d+(?:\.\d+)?)\s*$/.exec(part);
    if (!m || !(OP_KINDS as readonly string[]).includes(m[1])) throw new UsageError(`bad --mix part '${part}' (e.g. get=70,put=30)`);
    mix[m[1] as OpKind] = Number(m[2]);
  }
  return mix;
}

function parsePids(text: string | undefined): number[] {
  if (!text) return [];
  return text.split(',').map((p) => {
    if (!/^\d+$/.test(p.trim())) throw new UsageError(`bad pid '${p}' in --server-pids`);
    return Number(p);
  });
}

async function main(): Promise<void> {
  let options: LoadOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`s3-load: ${e.message}\nusage: see the header of bench/load/s3-load.ts or docs/benchmarks.md\n`);
    process.exitCode = 2;
    return;
  }
  const result = await runLoad(options);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function isMain(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isMain()) {
  main().catch((e: Error) => {
    process.stderr.write(`s3-load: ${e.message}\n`);
    process.exitCode = 1;
  });
}
