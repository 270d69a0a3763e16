/**
 * `arca ring`: the offline ring builder, Swift's swift-ring-builder. Builder files (`*.builder.json`) hold
 * the operator's intent and history; `rebalance` turns one into the ring file processes read. The ring
 * library is pure, so the clock is read here.
 */
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Device, type RebalanceResult, RingBuilder, RingError, type RingStats, statsOfRingData } from '../../ring/index.js';
import { ringFileName } from '../common/config.js';
import { ArcaError } from '../common/errors.js';
import { readBuilderFile, readRingData, writeBuilderFile, writeRingFile } from '../common/ring-files.js';

const USAGE = `usage: arca ring <command> ...

  create BUILDER --part-power N --replicas N [--min-part-hours 1] [--seed N] [--force]
  add BUILDER --region R --zone Z --ip IP --port P --device NAME --weight W [--meta TEXT] [--id N]
  remove BUILDER ID
  set-weight BUILDER ID WEIGHT
  rebalance BUILDER [--output RINGFILE] [--dry-run] [--json]
  show BUILDER_OR_RINGFILE [--json]
`;

/** A bad command line: printed with the usage, exit code 2. */
class UsageError extends Error {}

const hoursNow = () => Math.floor(Date.now() / 3_600_000);

/** Runs `arca ring …` and resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case 'create':
        return create(rest);
      case 'add':
        return add(rest);
      case 'remove':
        return remove(rest);
      case 'set-weight':
        return setWeight(rest);
      case 'rebalance':
        return rebalance(rest);
      case 'show':
        return show(rest);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`arca ring: ${(err as Error).message}\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}

function parse(args: string[], options: Record<string, { type: 'string' | 'boolean' }>, positionals: string[]) {
  // parseArgs would read "-3" as an option; say what is wrong with it instead.
  const negative = args.find((a) => /^-\d/.test(a));
  if (negative !== undefined) throw new ArcaError('BadRequest', `expected a number >= 0, got ${JSON.stringify(negative)}`);
  const { values, positionals: got } = parseArgs({ args, options, allowPositionals: true, strict: true });
  if (got.length !== positionals.length) throw new UsageError(`expected ${positionals.join(' ')}`);
  return { values: values as Record<string, string | boolean | undefined>, pos: got };
}

/** A non-negative integer option or argument, or a UsageError naming it. */
function int(value: unknown, name: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'string' || !/^\d+$/.test(value) || Number(value) > max) throw new ArcaError('BadRequest', `${name}: expected a whole number 0-${max}, got ${JSON.stringify(value ?? '')}`);
  return Number(value);
}

function weight(value: unknown, name: string): number {
  const w = typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(w)) throw new ArcaError('BadRequest', `${name}: expected a number >= 0, got ${JSON.stringify(value ?? '')}`);
  return w;
}

function required(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string') throw new UsageError(`--${name} is required`);
  return v;
}

/** Runs a builder operation, turning its RingError into an ArcaError that names the builder file. */
function onBuilder<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RingError) throw new ArcaError('InvalidRing', `${path}: ${err.field}: ${err.reason}`, { file: path, field: err.field });
    throw err;
  }
}

function create(args: string[]): number {
  const { values, pos } = parse(
    args,
    { 'part-power': { type: 'string' }, replicas: { type: 'string' }, 'min-part-hours': { type: 'string' }, seed: { type: 'string' }, force: { type: 'boolean' } },
    ['BUILDER'],
  );
  const [path] = pos;
  if (existsSync(path) && !values.force) throw new ArcaError('Conflict', `${path}: already exists (use --force to replace it)`);
  const builder = onBuilder(path, () =>
    RingBuilder.create({
      partPower: int(required(values, 'part-power'), '--part-power', 32),
      replicas: int(required(values, 'replicas'), '--replicas', 1000),
      minPartHours: values['min-part-hours'] === undefined ? 1 : int(values['min-part-hours'], '--min-part-hours', 0x7fffffff),
      seed: values.seed === undefined ? randomInt(0, 2 ** 32 - 1) : int(values.seed, '--seed', 0xffffffff),
    }),
  );
  writeBuilderFile(path, builder);
  process.stdout.write(`${path}: ${2 ** builder.partPower} partitions, ${builder.replicas} replicas, min part hours ${builder.minPartHours}, seed ${builder.seed}\n`);
  return 0;
}

function add(args: string[]): number {
  const { values, pos } = parse(
    args,
    {
      region: { type: 'string' },
      zone: { type: 'string' },
      ip: { type: 'string' },
      port: { type: 'string' },
      device: { type: 'string' },
      weight: { type: 'string' },
      meta: { type: 'string' },
      id: { type: 'string' },
    },
    ['BUILDER'],
  );
  const [path] = pos;
  const builder = readBuilderFile(path);
  const dev: Omit<Device, 'id'> & { id?: number } = {
    region: int(required(values, 'region'), '--region'),
    zone: int(required(values, 'zone'), '--zone'),
    ip: required(values, 'ip'),
    port: int(required(values, 'port'), '--port', 65535),
    device: required(values, 'device'),
    weight: weight(required(values, 'weight'), '--weight'),
  };
  if (typeof values.meta === 'string') dev.meta = values.meta;
  if (values.id !== undefined) dev.id = int(values.id, '--id');
  const added = onBuilder(path, () => builder.addDevice(dev));
  writeBuilderFile(path, builder);
  process.stdout.write(`${added.id}\n`);
  return 0;
}

function remove(args: string[]): number {
  const { pos } = parse(args, {}, ['BUILDER', 'ID']);
  const [path, id] = pos;
  const builder = readBuilderFile(path);
  onBuilder(path, () => builder.removeDevice(int(id, 'ID')));
  writeBuilderFile(path, builder);
  process.stdout.write(`device ${id} will leave the ring at the next rebalance\n`);
  return 0;
}

function setWeight(args: string[]): number {
  const { pos } = parse(args, {}, ['BUILDER', 'ID', 'WEIGHT']);
  const [path, id, w] = pos;
  const builder = readBuilderFile(path);
  onBuilder(path, () => builder.setWeight(int(id, 'ID'), weight(w, 'WEIGHT')));
  writeBuilderFile(path, builder);
  process.stdout.write(`device ${id} weight ${weight(w, 'WEIGHT')}\n`);
  return 0;
}

/** Where `rebalance` writes the ring by default: `x.builder.json` → `x.ring.json.gz`. */
export function defaultRingPath(builderPath: string): string {
  return builderPath.endsWith('.builder.json') ? `${builderPath.slice(0, -'.builder.json'.length)}.ring.json.gz` : `${builderPath}.ring.json.gz`;
}

function rebalance(args: string[]): number {
  const { values, pos } = parse(
    args,
    { output: { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' }, 'now-hours': { type: 'string' } },
    ['BUILDER'],
  );
  const [path] = pos;
  const output = typeof values.output === 'string' ? values.output : defaultRingPath(path);
  const dryRun = values['dry-run'] === true;
  const builder = readBuilderFile(path);
  // --now-hours replaces the clock, for scripts and tests that need to pretend time has passed.
  const nowHours = values['now-hours'] === undefined ? hoursNow() : int(values['now-hours'], '--now-hours', 0x7fffffff);
  const result = onBuilder(path, () => builder.rebalance({ nowHours, dryRun }));
  if (!dryRun) {
    writeBuilderFile(path, builder);
    writeRingFile(output, builder.ringData());
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ...result, dryRun, output: dryRun ? null : output })}\n`);
    return 0;
  }
  process.stdout.write(`${describeRebalance(result, dryRun)}\n`);
  if (!dryRun) process.stdout.write(`wrote ${output}\n`);
  return 0;
}

function describeRebalance(r: RebalanceResult, dryRun: boolean): string {
  const verb = dryRun ? 'would move' : 'moved';
  const lines = [
    `${verb} ${r.moved} partition-replicas (minimum ${r.minimumMoves})${r.placed ? `, placed ${r.placed}` : ''}; balance ${r.balance.toFixed(2)}%, dispersion ${r.dispersion.toFixed(2)}%`,
  ];
  if (r.moved < r.minimumMoves) lines.push('some partitions could not move yet (moved within min part hours); rebalance again later');
  return lines.join('\n');
}

function show(args: string[]): number {
  const { values, pos } = parse(args, { json: { type: 'boolean' } }, ['BUILDER_OR_RINGFILE']);
  const [path] = pos;
  const isRing = path.endsWith('.gz') || isGzip(path);
  let summary: Record<string, unknown>;
  let stats: RingStats;
  let devices: ReadonlyArray<Readonly<Device> | null>;
  let removing: number[] = [];
  if (isRing) {
    const data = readRingData(path);
    stats = statsOfRingData(data);
    devices = data.devices;
    summary = { kind: 'ring', partPower: data.partPower, partitions: 2 ** data.partPower, replicas: data.replicas, seed: data.seed };
  } else {
    const builder = readBuilderFile(path);
    stats = builder.stats();
    devices = builder.devices;
    removing = builder.pendingRemoval;
    summary = {
      kind: 'builder',
      partPower: builder.partPower,
      partitions: 2 ** builder.partPower,
      replicas: builder.replicas,
      minPartHours: builder.minPartHours,
      seed: builder.seed,
      rebalanced: builder.built,
    };
  }
  const rows = stats.devices.map((s) => ({ ...(devices[s.id] as Device), parts: s.parts, want: s.want, balance: s.balance, removing: removing.includes(s.id) }));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ...summary, balance: stats.balance, dispersion: stats.dispersion, devices: rows })}\n`);
    return 0;
  }
  const regions = new Set(rows.map((d) => d.region)).size;
  const zones = new Set(rows.map((d) => `${d.region}/${d.zone}`)).size;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const out = [
    `${path}: ${summary.kind}, partition power ${summary.partPower} (${summary.partitions} partitions), ${summary.replicas} replicas${summary.minPartHours !== undefined ? `, min part hours ${summary.minPartHours}` : ''}, seed ${summary.seed}`,
    `${plural(rows.length, 'device')} in ${plural(regions, 'region')}, ${plural(zones, 'zone')}; balance ${stats.balance.toFixed(2)}%, dispersion ${stats.dispersion.toFixed(2)}%${summary.rebalanced === false ? ' (not rebalanced yet)' : ''}`,
    `${'id'.padStart(5)} ${'region'.padStart(6)} ${'zone'.padStart(4)}  ${'address'.padEnd(21)} ${'device'.padEnd(10)} ${'weight'.padStart(8)} ${'parts'.padStart(8)} ${'want'.padStart(10)} ${'balance'.padStart(8)}`,
    ...rows.map(
      (d) =>
        `${String(d.id).padStart(5)} ${String(d.region).padStart(6)} ${String(d.zone).padStart(4)}  ${`${d.ip}:${d.port}`.padEnd(21)} ${d.device.padEnd(10)} ${d.weight.toFixed(2).padStart(8)} ${String(d.parts).padStart(8)} ${d.want.toFixed(2).padStart(10)} ${d.balance.toFixed(2).padStart(8)}${d.removing ? '  (removing)' : ''}`,
    ),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

function isGzip(path: string): boolean {
  let head: Buffer;
  try {
    head = readFileSync(path).subarray(0, 2);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ArcaError('InvalidRing', `${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, { file: path });
  }
  return head.length === 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** Replicas of the account and container rings: 3, or fewer when there are fewer devices. */
const LISTING_REPLICAS = 3;
/** Partition power of the rings `buildClusterRings` makes unless told otherwise (Swift's all-in-one uses 10). */
const DEFAULT_PART_POWER = 10;

/**
 * Builds the rings of a new cluster in `ringDir`: `account`, `container` and one object ring per policy,
 * each as a builder file (`<name>.builder.json`) plus its ring file. Every node contributes one device of
 * weight 1. An EC policy passes K+M as its replicas; with fewer devices than that, the builder puts several
 * fragments of a partition on one device, spread as evenly as the devices allow.
 */
export function buildClusterRings(opts: {
  ringDir: string;
  nodes: Array<{ ip: string; port: number; device: string; zone: number; region?: number }>;
  policies: { index: number; replicas: number }[];
  partPower?: number;
  seed: number;
}): void {
  if (opts.nodes.length === 0) throw new ArcaError('InvalidConfig', 'a cluster needs at least one storage node');
  const listing = Math.min(LISTING_REPLICAS, opts.nodes.length);
  const rings: Array<{ file: string; replicas: number }> = [
    { file: ringFileName('account'), replicas: listing },
    { file: ringFileName('container'), replicas: listing },
    ...opts.policies.map((p) => ({ file: ringFileName({ policyIndex: p.index }), replicas: p.replicas })),
  ];
  const nowHours = hoursNow();
  for (const { file, replicas } of rings) {
    const builderPath = join(opts.ringDir, file.replace(/\.ring\.json\.gz$/, '.builder.json'));
    const builder = onBuilder(builderPath, () => {
      const b = RingBuilder.create({ partPower: opts.partPower ?? DEFAULT_PART_POWER, replicas, minPartHours: 1, seed: opts.seed >>> 0 });
      for (const n of opts.nodes) b.addDevice({ region: n.region ?? 1, zone: n.zone, ip: n.ip, port: n.port, device: n.device, weight: 1 });
      b.rebalance({ nowHours });
      return b;
    });
    writeBuilderFile(builderPath, builder);
    writeRingFile(join(opts.ringDir, file), builder.ringData());
  }
}
