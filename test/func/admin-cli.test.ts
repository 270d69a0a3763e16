/**
 * The admin API and the `arca user` / `arca key` commands against an in-process cluster: the commands run
 * as real processes (`node dist/src/cli/main.js …`), and the keys they create are used with the AWS SDK.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, ListBucketsCommand, type S3ServiceException } from '@aws-sdk/client-s3';
import test from 'ava';
import { adminRequest } from '../../src/cli/admin-client.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { rawRequest } from '../helpers/raw.js';
import { adminTarget, createUser, unsigned } from '../helpers/users.js';

let cluster: TestCluster;
test.before(async () => {
  cluster = await startCluster({ nodes: 3 });
});
test.after.always(async () => cluster?.close());

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `arca ARGS` as a process, pointed at the cluster by environment unless `env` says otherwise. */
function arca(args: string[], env?: Record<string, string>, cwd?: string): Promise<Run> {
  const base = env ?? { ARCA_ENDPOINT: cluster.endpoint, ARCA_ACCESS_KEY: cluster.accessKey, ARCA_SECRET_KEY: cluster.secretKey };
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...base }, cwd, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function clientFor(accessKeyId: string, secretAccessKey: string) {
  return cluster.s3({ credentials: { accessKeyId, secretAccessKey } });
}

async function sdkError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as S3ServiceException).name;
  }
  return 'none';
}

test('arca user create/list, arca key create/delete, arca user delete', async (t) => {
  let r = await arca(['user', 'create', 'dave', '--json']);
  t.is(r.code, 0, r.stderr);
  const created = JSON.parse(r.stdout) as { user: { name: string; account: string }; key: { accessKeyId: string; secretAccessKey: string } };
  t.like(created.user, { name: 'dave', account: 'dave' });
  const dave = clientFor(created.key.accessKeyId, created.key.secretAccessKey);
  await dave.send(new CreateBucketCommand({ Bucket: 'dave-bucket' }));
  t.deepEqual((await dave.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name), ['dave-bucket']);

  r = await arca(['user', 'list']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^NAME +ACCOUNT +CREATED\n/);
  t.regex(r.stdout, /^dave +dave +\d{4}-/m);
  r = await arca(['user', 'list', '--json']);
  t.true((JSON.parse(r.stdout) as Array<{ name: string }>).some((u) => u.name === 'dave'));

  r = await arca(['key', 'create', 'dave', '--json']);
  t.is(r.code, 0, r.stderr);
  const second = JSON.parse(r.stdout) as { accessKeyId: string; secretAccessKey: string; user: string };
  t.is(second.user, 'dave');
  const dave2 = clientFor(second.accessKeyId, second.secretAccessKey);
  t.deepEqual((await dave2.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name), ['dave-bucket']);
  r = await arca(['key', 'list', 'dave']);
  t.is(r.stdout.trim().split('\n').length, 2);

  r = await arca(['key', 'delete', created.key.accessKeyId]);
  t.is(r.code, 0, r.stderr);
  t.is(await sdkError(dave.send(new ListBucketsCommand({}))), 'InvalidAccessKeyId');
  t.is(await sdkError(dave2.send(new ListBucketsCommand({}))), 'none');

  r = await arca(['user', 'delete', 'dave']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /deleted user dave/);
  t.is(await sdkError(dave2.send(new ListBucketsCommand({}))), 'InvalidAccessKeyId');
  // The account's buckets outlive the user.
  t.true((await cluster.s3().send(new CreateBucketCommand({ Bucket: 'dave-bucket' })).catch((e) => e)).name === 'BucketAlreadyExists');
});

test('chosen keys, and errors as one line with a non-zero exit', async (t) => {
  let r = await arca(['user', 'create', 'erin', '--access-key', 'ERINKEY000000001', '--secret-key', 'erin-secret-erin-secret']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /access key: ERINKEY000000001/);
  await clientFor('ERINKEY000000001', 'erin-secret-erin-secret').send(new ListBucketsCommand({}));

  const failures: Array<[string[], RegExp]> = [
    [['user', 'delete', 'nobody'], /^arca user: NoSuchUser: user nobody does not exist\n$/],
    [['user', 'create', 'erin'], /^arca user: UserAlreadyExists: user erin already exists\n$/],
    [['user', 'create', 'frank', '--access-key', 'ERINKEY000000001', '--secret-key', 'another-secret-123'], /^arca user: AccessKeyAlreadyExists: /],
    [['user', 'create', 'frank', '--access-key', 'FRANKKEY00000001'], /^arca user: give both --access-key and --secret-key, or neither\n$/],
    [['user', 'create', 'bad/name'], /^arca user: InvalidArgument: invalid user name/],
    [['key', 'delete', 'NOSUCHKEY0000000'], /^arca key: NoSuchAccessKey: /],
    [['key', 'create', 'nobody'], /^arca key: NoSuchUser: /],
    [['user', 'frobnicate'], /^arca user: bad arguments/],
  ];
  for (const [args, expected] of failures) {
    r = await arca(args);
    t.is(r.code, 1, args.join(' '));
    t.regex(r.stderr, expected, args.join(' '));
  }
  // Nothing was created by the failures.
  const { users } = (await adminRequest(adminTarget(cluster), 'GET', 'users')) as { users: Array<{ name: string }> };
  t.false(users.some((u) => u.name === 'frank' || u.name === 'bad/name'));

  r = await arca(['user', 'list'], { ARCA_ENDPOINT: 'http://127.0.0.1:1', ARCA_ACCESS_KEY: 'x', ARCA_SECRET_KEY: 'y' });
  t.is(r.code, 1);
  t.regex(r.stderr, /^arca user: cannot reach http:\/\/127\.0\.0\.1:1: ECONNREFUSED\n$/);
  r = await arca(['user', 'list'], { ARCA_ENDPOINT: cluster.endpoint, ARCA_ACCESS_KEY: cluster.accessKey, ARCA_SECRET_KEY: 'wrong' });
  t.regex(r.stderr, /^arca user: SignatureDoesNotMatch: /);
});

test('without ARCA_* variables the CLI uses the local cluster in --data', async (t) => {
  const r = await arca(['user', 'list', '--data', cluster.dir], {});
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^root +root/m);
  const none = await arca(['user', 'list', '--data', '/nonexistent-arca-data'], {});
  t.is(none.code, 1);
  t.regex(none.stderr, /no cluster endpoint: set ARCA_ENDPOINT/);
});

test('the admin API answers root only, in JSON', async (t) => {
  const gina = await createUser(cluster, 'gina');
  const asGina = { ...cluster, accessKey: gina.accessKeyId, secretKey: gina.secretAccessKey };
  let r = await rawRequest(asGina, 'GET', '/_arca/admin/v1/users');
  t.is(r.status, 403);
  t.deepEqual(JSON.parse(r.body).error, { code: 'AccessDenied', message: 'only the root user may use the admin API' });
  r = await unsigned(cluster, 'GET', '/_arca/admin/v1/users');
  t.is(r.status, 403);
  r = await unsigned(cluster, 'POST', '/_arca/admin/v1/users', { 'content-type': 'application/json' }, '{"name":"mallory"}');
  t.is(r.status, 403);
  r = await rawRequest(cluster, 'GET', '/_arca/admin/v1/nothing-here');
  t.is(r.status, 404);
  t.is(JSON.parse(r.body).error.code, 'NotFound');
  r = await rawRequest(cluster, 'PUT', '/_arca/admin/v1/users');
  t.is(r.status, 405);
  r = await rawRequest(cluster, 'GET', '/_arca/admin/v1/users/gina');
  t.is(r.status, 200);
  const body = JSON.parse(r.body) as { user: { name: string; account: string }; keys: Array<{ accessKeyId: string; secretAccessKey?: string }> };
  t.like(body.user, { name: 'gina', account: 'gina' });
  t.deepEqual(body.keys.map((k) => k.accessKeyId), [gina.accessKeyId]);
  t.false(r.body.includes(gina.secretAccessKey), 'secrets are shown once, at creation');
  r = await rawRequest(cluster, 'DELETE', '/_arca/admin/v1/users/nobody');
  t.is(r.status, 404);
  t.is(JSON.parse(r.body).error.code, 'NoSuchUser');
  r = await rawRequest(cluster, 'POST', '/_arca/admin/v1/users', { 'content-type': 'application/json' }, '{"name": ');
  t.is(r.status, 400);
  t.is(JSON.parse(r.body).error.code, 'MalformedJSON');
});
