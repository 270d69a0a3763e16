import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import test from 'ava';
import type { BucketInfo, ListObjectsOptions, ObjectStore, PutObjectInput } from '../../../src/proxy/object-store.js';
import { IdentityError } from '../../../src/identity/errors.js';
import { IdentityStore } from '../../../src/identity/identity-store.js';

/** Just enough of an ObjectStore for the identity store: one map of buckets of objects. */
class MapStore {
  readonly buckets = new Map<string, { info: BucketInfo; objects: Map<string, Buffer> }>();
  reads = 0;

  async createBucket(account: string, name: string) {
    if (!this.buckets.has(name)) this.buckets.set(name, { info: { name, account, policy: 'replica-3', createdTs: '0', meta: {} } as BucketInfo, objects: new Map() });
    return 'created' as const;
  }
  async getBucket(name: string) {
    return this.buckets.get(name)?.info;
  }
  async putObject(bucket: BucketInfo, key: string, input: PutObjectInput) {
    const chunks: Buffer[] = [];
    for await (const c of input.body) chunks.push(c as Buffer);
    const data = Buffer.concat(chunks);
    await input.finish({ size: data.length });
    this.buckets.get(bucket.name)!.objects.set(key, data);
    return { bucket: bucket.name, key, ts: '0', size: data.length, etag: createHash('md5').update(data).digest('hex'), contentType: input.contentType, meta: {} };
  }
  async getObject(bucket: BucketInfo, key: string) {
    this.reads++;
    const data = this.buckets.get(bucket.name)?.objects.get(key);
    return data && { info: { bucket: bucket.name, key, ts: '0', size: data.length, etag: '', contentType: '', meta: {} }, body: Readable.from([data]) };
  }
  async deleteObject(bucket: BucketInfo, key: string) {
    return { existed: this.buckets.get(bucket.name)!.objects.delete(key) };
  }
  async listObjects(bucket: BucketInfo, opts: ListObjectsOptions) {
    const keys = [...(this.buckets.get(bucket.name)?.objects.keys() ?? [])].filter((k) => k.startsWith(opts.prefix ?? '') && k > (opts.marker ?? '')).sort();
    return { entries: keys.slice(0, opts.limit).map((key) => ({ key, ts: '0', size: 0, etag: '', contentType: '' })), truncated: keys.length > opts.limit };
  }
}

const root = { accessKeyId: 'AKROOTROOTROOTROOT00', secretKey: 'root-secret-root-secret' };

function setup(opts: { ttl?: number; material?: string; store?: MapStore; clock?: { now: number } } = {}) {
  const store = opts.store ?? new MapStore();
  const clock = opts.clock ?? { now: 1_000_000 };
  const identity = new IdentityStore({
    store: store as unknown as ObjectStore,
    root,
    keyMaterial: opts.material ?? root.secretKey,
    cacheTtlMs: opts.ttl ?? 3000,
    now: () => clock.now,
  });
  return { store, identity, clock };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return err instanceof IdentityError ? err.code : String(err);
  }
  return 'none';
}

test('the root user always exists and is never stored', async (t) => {
  const { identity, store } = setup();
  t.like(await identity.lookup(root.accessKeyId), { user: 'root', account: 'root', isRoot: true, secretKey: root.secretKey });
  t.true(await identity.accountExists('root'));
  t.deepEqual(await identity.user('root'), { name: 'root', account: 'root' });
  t.is(store.buckets.size, 0);
  t.is(await code(identity.deleteUser('root')), 'InvalidArgument');
  t.is(await code(identity.createUser('root')), 'InvalidArgument');
});

test('create a user: its account, its first key; lookups find them', async (t) => {
  const { identity } = setup();
  const { user, key } = await identity.createUser('alice');
  t.like(user, { name: 'alice', account: 'alice' });
  t.regex(key.accessKeyId, /^AK[A-Z2-7]{18}$/);
  t.like(await identity.lookup(key.accessKeyId), { user: 'alice', account: 'alice', isRoot: false, secretKey: key.secretAccessKey });
  t.true(await identity.accountExists('alice'));
  const ops = await identity.createUser('alice-ops', { account: 'alice', accessKeyId: 'OPSKEY0123456789', secretKey: 'a-secret-of-16-chars' });
  t.like(ops.key, { accessKeyId: 'OPSKEY0123456789', account: 'alice', secretAccessKey: 'a-secret-of-16-chars' });
  t.deepEqual((await identity.listUsers()).map((u) => [u.name, u.account]), [['root', 'root'], ['alice', 'alice'], ['alice-ops', 'alice']]);
});

test('secrets are sealed at rest and bound to their key id', async (t) => {
  const { identity, store } = setup();
  const { key } = await identity.createUser('alice');
  const objects = store.buckets.get('.identity')!.objects;
  for (const data of objects.values()) t.false(data.toString().includes(key.secretAccessKey));
  // Another cluster key cannot open it.
  const other = setup({ store, material: 'another cluster key' });
  t.is(await code(other.identity.lookup(key.accessKeyId)), 'CorruptRecord');
  // A sealed secret moved to another key's record does not open either.
  const second = await identity.createKey('alice');
  const moved = JSON.parse(objects.get(`keys/${key.accessKeyId}`)!.toString());
  const target = JSON.parse(objects.get(`keys/${second.accessKeyId}`)!.toString());
  objects.set(`keys/${second.accessKeyId}`, Buffer.from(JSON.stringify({ ...target, secret: moved.secret })));
  t.is(await code(setup({ store }).identity.lookup(second.accessKeyId)), 'CorruptRecord');
});

test('names, key pairs and duplicates are checked', async (t) => {
  const { identity } = setup();
  await identity.createUser('bob', { accessKeyId: 'BOBKEY0123456789', secretKey: 'bob-secret-bob-secret' });
  t.is(await code(identity.createUser('bob')), 'UserAlreadyExists');
  t.is(await code(identity.createUser('carol', { accessKeyId: 'BOBKEY0123456789', secretKey: 'another-secret-xx' })), 'AccessKeyAlreadyExists');
  t.is(await code(identity.createUser('dave', { accessKeyId: root.accessKeyId, secretKey: 'another-secret-xx' })), 'AccessKeyAlreadyExists');
  t.is(await code(identity.createUser('eve', { accessKeyId: 'SHORT', secretKey: 'another-secret-xx' })), 'InvalidArgument');
  t.is(await code(identity.createUser('eve', { accessKeyId: 'EVEKEY0123456789' })), 'InvalidArgument');
  t.is(await code(identity.createUser('../etc')), 'InvalidArgument');
  t.is(await code(identity.createUser('.arca')), 'InvalidArgument');
  t.is(await code(identity.createUser('frank', { account: 'root' })), 'InvalidArgument');
  t.is(await code(identity.createKey('nobody')), 'NoSuchUser');
  t.is(await code(identity.deleteUser('nobody')), 'NoSuchUser');
  t.is(await code(identity.deleteKey('NOSUCHKEY0123456')), 'NoSuchAccessKey');
  t.is(await identity.lookup('../../etc/passwd'), undefined);
});

test('deleting a user deletes its keys; deleting a key leaves the user', async (t) => {
  const { identity } = setup();
  const { key: k1 } = await identity.createUser('alice');
  const k2 = await identity.createKey('alice');
  t.deepEqual((await identity.listKeys('alice')).map((k) => k.accessKeyId).sort(), [k1.accessKeyId, k2.accessKeyId].sort());
  await identity.deleteKey(k1.accessKeyId);
  t.is(await identity.lookup(k1.accessKeyId), undefined);
  t.truthy(await identity.lookup(k2.accessKeyId));
  await identity.deleteUser('alice');
  t.is(await identity.lookup(k2.accessKeyId), undefined);
  t.is(await identity.getUser('alice'), undefined);
  t.is(await code(identity.listKeys('alice')), 'NoSuchUser');
  // The account stays: its buckets outlive its users.
  t.true(await identity.accountExists('alice'));
});

test('another proxy sees changes once its cache expires; lookups are cached', async (t) => {
  const clock = { now: 1_000_000 };
  const a = setup({ clock });
  const b = setup({ clock, store: a.store });
  t.is(await b.identity.lookup('AKNOTYETNOTYET000000'), undefined);
  const { key } = await a.identity.createUser('alice', { accessKeyId: 'AKNOTYETNOTYET000000', secretKey: 'alice-secret-alice' });
  t.is(await b.identity.lookup(key.accessKeyId), undefined, 'negative answer still cached');
  clock.now += 3001;
  t.truthy(await b.identity.lookup(key.accessKeyId));
  const reads = a.store.reads;
  await b.identity.lookup(key.accessKeyId);
  t.is(a.store.reads, reads, 'served from the cache');
  await a.identity.deleteUser('alice');
  t.truthy(await b.identity.lookup(key.accessKeyId), 'still cached on the other proxy');
  t.is(await a.identity.lookup(key.accessKeyId), undefined, 'invalidated on this one');
  clock.now += 3001;
  t.is(await b.identity.lookup(key.accessKeyId), undefined);
});
