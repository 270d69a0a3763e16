/**
 * `arca events status|replay`: event delivery of a running cluster through its admin API — per bucket and
 * consumer, checkpoints, pending changes, lag and failures; and re-delivery of past events.
 */
import { parseArgs } from 'node:util';
import { ArcaError } from '../common/errors.js';
import { adminRequest, adminTarget } from './admin-client.js';

const usage = `usage: arca events status
       arca events replay BUCKET --from SEQ --target T [--limit N]

status prints the delivery state as JSON: per bucket, the proxy holding its lease, and per consumer
(webhook:NAME or hook:BINDING) its source replica, checkpoints, pending changes, lag and failures.
replay delivers again the events of BUCKET from change SEQ of the consumer's source replica (the numbers
status shows) to T (a webhook name, or hook:BINDING), at most --limit (default all, in pages of 10,000).`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      target: { type: 'string' },
      limit: { type: 'string' },
      data: { type: 'string', default: '.arca-data' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const [verb, bucket, ...extra] = positionals;
  const target = adminTarget(process.env, values.data);
  if (verb === 'status' && !bucket) {
    process.stdout.write(`${JSON.stringify(await adminRequest(target, 'GET', 'events'), null, 2)}\n`);
    return 0;
  }
  if (verb !== 'replay' || !bucket || extra.length || !values.from || !values.target) throw new ArcaError('BadRequest', `bad arguments\n${usage}`);
  let from = Number(values.from);
  let left = values.limit === undefined ? Number.POSITIVE_INFINITY : Number(values.limit);
  if (!Number.isSafeInteger(from) || from < 1 || !(left > 0)) throw new ArcaError('BadRequest', '--from and --limit must be positive integers');
  let total = 0;
  for (;;) {
    const page = (await adminRequest(target, 'POST', `buckets/${encodeURIComponent(bucket)}/events/replay`, {
      from,
      target: values.target,
      limit: Math.min(10_000, left),
    })) as { delivered: number; next: number; more: boolean; replica: string };
    total += page.delivered;
    left -= page.delivered;
    from = page.next;
    if (!page.more || left <= 0) {
      process.stdout.write(`replayed ${total} events of ${bucket} to ${values.target} (replica ${page.replica}, up to change ${page.next - 1})\n`);
      return 0;
    }
  }
}
