/** The write quorum: with a majority of the cluster down, writes fail cleanly (503) instead of half-working. */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { withCluster } from '../helpers/cluster.js';

test(
  'PUT with only one node of four up is ServiceUnavailable; reads of older data still work with two up',
  withCluster({ nodes: 4 }, async (t, cluster) => {
    const s3 = cluster.s3({ maxAttempts: 1 });
    await s3.send(new CreateBucketCommand({ Bucket: 'quorum' }));
    await s3.send(new PutObjectCommand({ Bucket: 'quorum', Key: 'before', Body: 'old' }));
    await cluster.stopNode(0);
    await cluster.stopNode(1);
    // Two of four nodes up: a primary or a handoff is always reachable for two replicas.
    await s3.send(new PutObjectCommand({ Bucket: 'quorum', Key: 'two-up', Body: 'x' }));
    t.is(await (await s3.send(new GetObjectCommand({ Bucket: 'quorum', Key: 'before' }))).Body!.transformToString(), 'old');
    await cluster.stopNode(2);
    const err = await t.throwsAsync(s3.send(new PutObjectCommand({ Bucket: 'quorum', Key: 'one-up', Body: 'x' })));
    t.is((err as { name: string }).name, 'ServiceUnavailable');
    t.is((err as unknown as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode, 503);
  }),
);
