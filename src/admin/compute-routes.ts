/**
 * The admin API's compute routes (docs/hooks.md), served by the compute layer of the proxy:
 *
 *   GET    /_arca/admin/v1/hooks                         → 200 { hooks: [Hook] }
 *   PUT    /_arca/admin/v1/hooks/NAME                    { manifest, module: base64 } → 201 { hook: Hook }
 *   GET    /_arca/admin/v1/hooks/NAME                    → 200 { hook: Hook }
 *   DELETE /_arca/admin/v1/hooks/NAME                    → 204
 *   GET    /_arca/admin/v1/buckets/BUCKET/hooks          → 200 { bindings: [Binding] }
 *   POST   /_arca/admin/v1/buckets/BUCKET/hooks          { hook, on, prefix?, suffix?, targetBucket?, params? } → 201 { binding }
 *   DELETE /_arca/admin/v1/buckets/BUCKET/hooks/ID       → 204
 *   GET    /_arca/admin/v1/events                        → 200 { events: [BucketDelivery], hooks: PoolStats, deliverer }
 *   POST   /_arca/admin/v1/buckets/BUCKET/events/replay  { from, target, limit? } → 200 { delivered, next, more, replica }
 */

/** What the compute layer offers the admin API (src/compute/service.ts implements it). */
export interface AdminCompute {
  deployHook(name: string, manifest: unknown, module: Buffer): Promise<unknown>;
  listHooks(): Promise<unknown[]>;
  describeHook(name: string): Promise<unknown>;
  removeHook(name: string): Promise<boolean>;
  bindings(bucket: string): Promise<unknown[]>;
  bind(bucket: string, input: { hook: string; on: 'put' | 'get' | 'event'; prefix?: string; suffix?: string; targetBucket?: string; params?: Record<string, string> }): Promise<unknown>;
  unbind(bucket: string, id: string): Promise<boolean>;
  status(): Promise<unknown>;
  replay(bucket: string, from: number, target: string, limit: number): Promise<unknown>;
}

/** Largest request body of a hook deploy (a 16 MiB module in base64, with its manifest). */
export const maxDeployBodyBytes = 23 * 1024 * 1024;

type Reply = { status: number; body?: unknown };
type Fail = (status: number, code: string, message: string) => Error;

function str(body: Record<string, unknown>, field: string, fail: Fail, required = false): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) {
    if (required) throw fail(400, 'InvalidArgument', `"${field}" is required`);
    return undefined;
  }
  if (typeof v !== 'string') throw fail(400, 'InvalidArgument', `"${field}" must be a string`);
  return v;
}

/** Whether a path (after the API prefix) is a hook deploy, which may carry a large body. */
export function isDeployPath(method: string, path: string): boolean {
  return method === 'PUT' && /^hooks\/[^/]+\/?$/.test(path);
}

/** Handles a compute route; undefined when the path is not one. */
export async function computeRoute(method: string, parts: string[], body: Record<string, unknown>, compute: AdminCompute, fail: Fail): Promise<Reply | undefined> {
  const notAllowed = () => fail(405, 'MethodNotAllowed', `${method} is not allowed on ${parts.join('/')}`);
  if (parts[0] === 'hooks' && parts.length === 1) {
    if (method !== 'GET') throw notAllowed();
    return { status: 200, body: { hooks: await compute.listHooks() } };
  }
  if (parts[0] === 'hooks' && parts.length === 2) {
    const name = parts[1];
    if (method === 'GET') {
      const hook = await compute.describeHook(name);
      if (!hook) throw fail(404, 'NoSuchHook', `no hook ${name} is deployed`);
      return { status: 200, body: { hook } };
    }
    if (method === 'DELETE') {
      if (!(await compute.removeHook(name))) throw fail(404, 'NoSuchHook', `no hook ${name} is deployed`);
      return { status: 204 };
    }
    if (method !== 'PUT') throw notAllowed();
    const module = Buffer.from(str(body, 'module', fail, true)!, 'base64');
    return { status: 201, body: { hook: await compute.deployHook(name, body.manifest ?? {}, module) } };
  }
  if (parts[0] === 'events' && parts.length === 1) {
    if (method !== 'GET') throw notAllowed();
    return { status: 200, body: await compute.status() };
  }
  if (parts[0] !== 'buckets' || parts.length < 3) return undefined;
  const bucket = parts[1];
  if (parts[2] === 'hooks' && parts.length === 3) {
    if (method === 'GET') return { status: 200, body: { bindings: await compute.bindings(bucket) } };
    if (method !== 'POST') throw notAllowed();
    const on = str(body, 'on', fail, true);
    if (on !== 'put' && on !== 'get' && on !== 'event') throw fail(400, 'InvalidArgument', '"on" must be put, get or event');
    const params = body.params;
    if (params !== undefined && (typeof params !== 'object' || params === null || Object.values(params).some((v) => typeof v !== 'string'))) {
      throw fail(400, 'InvalidArgument', '"params" must be an object of strings');
    }
    const binding = await compute.bind(bucket, {
      hook: str(body, 'hook', fail, true)!,
      on,
      prefix: str(body, 'prefix', fail),
      suffix: str(body, 'suffix', fail),
      targetBucket: str(body, 'targetBucket', fail),
      params: params as Record<string, string> | undefined,
    });
    return { status: 201, body: { binding } };
  }
  if (parts[2] === 'hooks' && parts.length === 4) {
    if (method !== 'DELETE') throw notAllowed();
    if (!(await compute.unbind(bucket, parts[3]))) throw fail(404, 'NoSuchBinding', `bucket ${bucket} has no binding ${parts[3]}`);
    return { status: 204 };
  }
  if (parts[2] === 'events' && parts[3] === 'replay' && parts.length === 4) {
    if (method !== 'POST') throw notAllowed();
    const from = body.from;
    const limit = body.limit ?? 10_000;
    if (!Number.isSafeInteger(from) || (from as number) < 1) throw fail(400, 'InvalidArgument', '"from" must be a change number (1 or more)');
    if (!Number.isSafeInteger(limit) || (limit as number) < 1) throw fail(400, 'InvalidArgument', '"limit" must be a positive integer');
    return { status: 200, body: await compute.replay(bucket, from as number, str(body, 'target', fail, true)!, limit as number) };
  }
  return undefined;
}
