/**
 * The hash worker (hash-thread.ts is the side the process's main thread sees): node:crypto hashes of the
 * streams the main thread hands it, chunk by chunk, in order.
 */
import { createHash, type Hash } from 'node:crypto';
import type { HashJob, HashReply } from './hash-thread.js';
import { jobError, serveJobs } from './job-thread.js';

interface StreamState {
  hashes: Hash[];
  bytes: number;
}

const streams = new Map<number, StreamState>();

serveJobs<HashJob, HashReply>((reply) => (job) => {
  try {
    if (job.drop) {
      streams.delete(job.stream);
      reply({ id: job.id });
      return;
    }
    let state = streams.get(job.stream);
    if (!state) streams.set(job.stream, (state = { hashes: job.algorithms.map((a) => createHash(a)), bytes: 0 }));
    if (job.data) {
      for (const h of state.hashes) h.update(job.data);
      state.bytes += job.data.length;
    }
    if (!job.final) {
      reply({ id: job.id });
      return;
    }
    streams.delete(job.stream);
    reply({ id: job.id, bytes: state.bytes, digests: state.hashes.map((h) => h.digest()) });
  } catch (err) {
    streams.delete(job.stream);
    reply({ id: job.id, error: jobError(err) });
  }
});
