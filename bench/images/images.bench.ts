/**
 * bench/images: the image API against `arca cluster --glance-port` (real processes, replica-3 on 4 nodes).
 *
 *   upload          MiB/s of one image through Glance (`PUT …/file`, chunked) and of the same bytes through S3
 *   stream          reading the image as `qemu-img convert` does: 2 MiB + 256 KiB ranges that overlap by 256 KiB,
 *                   at concurrency 1 (`-m 1`) and 6 (what `-m 8` produced), each reader on its own keep-alive
 *                   connection: image MiB/s, transferred MiB/s, requests/s
 *   random          p50/p99 latency of random 64 KiB range reads with 8 concurrent readers
 *   qemu-img        `qemu-img convert -m 1 -O raw` from a signed URL versus from a local file (when installed)
 *
 * Prints one JSON line.   node dist/bench/images/images.bench.js [--quick] [--size 512MiB]
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import aws4 from 'aws4';
import { signedImageUrl, signTokenRequest } from '../../src/images/signing.js';
import { parseSize, percentile, round, Samples } from '../lib/stats.js';

const quick = process.argv.includes('--quick');
const sizeArg = process.argv.indexOf('--size');
const MiB = 1024 * 1024;
const imageSize = sizeArg > 0 ? parseSize(process.argv[sizeArg + 1]) : quick ? 64 * MiB : 512 * MiB;
const CHUNK = 2 * MiB;
const READAHEAD = 256 * 1024;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function startCluster(): Promise<{ s3: string; glance: string; accessKey: string; secretKey: string; stop(): Promise<void>; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'arca-bench-images-'));
  let port = 21000 + Math.floor(Math.random() * 20000);
  const glancePort = await freePort();
  const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [main, 'cluster', '--data', dir, '--port', String(port), '--nodes', '4', '--glance-port', String(glancePort)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^ready: /m.test(out)) resolve();
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`arca cluster exited ${code}: ${out}`)));
  });
  port = Number(/ready: http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]);
  const accessKey = /access key:\s+(\S+)/.exec(out)![1];
  const secretKey = /secret key:\s+(\S+)/.exec(out)![1];
  return {
    s3: `http://127.0.0.1:${port}`,
    glance: `http://127.0.0.1:${glancePort}`,
    accessKey,
    secretKey,
    dir,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

interface Reply {
  status: number;
  bytes: number;
  body: Buffer;
}

function send(url: string, opts: http.RequestOptions, body?: Readable | Buffer, keep = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, opts, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (keep) chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body instanceof Readable) body.pipe(req);
    else req.end(body);
  });
}

/** A stream of `size` pseudo-random bytes (one 1 MiB block repeated with a counter, so it does not compress). */
function imageStream(size: number): Readable {
  const block = randomBytes(MiB);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) return void this.push(null);
      const n = Math.min(MiB, size - sent);
      const b = Buffer.from(block.subarray(0, n));
      b.writeUInt32LE(sent / MiB, 0);
      sent += n;
      this.push(b);
    },
  });
}

const mibPerSec = (bytes: number, ms: number) => round(bytes / MiB / (ms / 1000));

async function main(): Promise<void> {
  const c = await startCluster();
  try {
    const tokenReply = await send(`${c.glance}/arca/v1/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' } }, Buffer.from(JSON.stringify(signTokenRequest({ accessKeyId: c.accessKey, secretKey: c.secretKey }, 3600))), true);
    const token = JSON.parse(tokenReply.body.toString()).token as string;
    const auth = { 'x-auth-token': token };

    // Upload through Glance (chunked, as glanceclient does).
    const created = await send(`${c.glance}/v2/images`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' } }, Buffer.from(JSON.stringify({ name: 'bench', disk_format: 'raw', container_format: 'bare' })), true);
    const id = JSON.parse(created.body.toString()).id as string;
    let t0 = performance.now();
    const up = await send(`${c.glance}/v2/images/${id}/file`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' } }, imageStream(imageSize));
    const glanceUploadMs = performance.now() - t0;
    if (up.status !== 204) throw new Error(`upload answered ${up.status}`);

    // The same bytes through S3 (UNSIGNED-PAYLOAD, Content-Length).
    const url = new URL(c.s3);
    const signed = aws4.sign(
      { host: url.host, path: '/arca-images/s3-copy', method: 'PUT', service: 's3', region: 'us-east-1', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': String(imageSize) } },
      { accessKeyId: c.accessKey, secretAccessKey: c.secretKey },
    );
    t0 = performance.now();
    const s3up = await send(`${c.s3}/arca-images/s3-copy`, { method: 'PUT', headers: signed.headers as http.OutgoingHttpHeaders }, imageStream(imageSize));
    const s3UploadMs = performance.now() - t0;
    if (s3up.status !== 200) throw new Error(`S3 upload answered ${s3up.status}`);

    // qemu-img convert's access pattern.
    const fileUrl = `${c.glance}/v2/images/${id}/file`;
    const stream = async (concurrency: number) => {
      const offsets: number[] = [];
      for (let o = 0; o < imageSize; o += CHUNK) offsets.push(o);
      let next = 0;
      let transferred = 0;
      const start = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
          while (next < offsets.length) {
            const o = offsets[next++];
            const r = await send(fileUrl, { agent, headers: { ...auth, range: `bytes=${o}-${o + CHUNK + READAHEAD - 1}` } });
            if (r.status !== 206) throw new Error(`range read answered ${r.status}`);
            transferred += r.bytes;
          }
          agent.destroy();
        }),
      );
      const ms = performance.now() - start;
      return { concurrency, imageMiBPerSec: mibPerSec(imageSize, ms), transferredMiBPerSec: mibPerSec(transferred, ms), requestsPerSec: round(offsets.length / (ms / 1000)) };
    };
    const streams = [await stream(1), await stream(6)];

    // Random 64 KiB reads, 8 readers.
    const latencies = new Samples();
    const reads = quick ? 400 : 2000;
    let issued = 0;
    const rStart = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        while (issued++ < reads) {
          const o = Math.floor(Math.random() * (imageSize / 65536)) * 65536;
          const s = performance.now();
          await send(fileUrl, { agent, headers: { ...auth, range: `bytes=${o}-${o + 65535}` } });
          latencies.push(performance.now() - s);
        }
        agent.destroy();
      }),
    );
    const rMs = performance.now() - rStart;
    const sorted = latencies.sorted();

    // qemu-img convert -m 1 from the ring and from a local file.
    let qemu: Record<string, number> | undefined;
    if (existsSync('/usr/bin/qemu-img')) {
      const tmp = mkdtempSync(join(tmpdir(), 'arca-bench-qemu-'));
      const local = join(tmp, 'local.raw');
      const chunks: Buffer[] = [];
      for await (const b of imageStream(Math.min(imageSize, 256 * MiB))) chunks.push(b as Buffer);
      writeFileSync(local, Buffer.concat(chunks));
      const convert = (src: string) => {
        const s = performance.now();
        // QEMU's curl driver gives up on a request after 5 s by default; a loaded shared machine can stall longer.
        const source = src.startsWith('http') ? `json:${JSON.stringify({ file: { driver: 'http', url: src, timeout: 60 } })}` : src;
        const r = spawnSync('/usr/bin/qemu-img', ['convert', '-m', '1', '-f', 'raw', '-O', 'raw', source, join(tmp, 'out.raw')]);
        if (r.status !== 0) throw new Error(`qemu-img: ${r.stderr}`);
        return performance.now() - s;
      };
      const signed = signedImageUrl(c.glance, id, { accessKeyId: c.accessKey, secretKey: c.secretKey }, Math.floor(Date.now() / 1000) + 3600);
      qemu = { ringMiBPerSec: mibPerSec(imageSize, convert(signed)), localFileMiBPerSec: mibPerSec(Math.min(imageSize, 256 * MiB), convert(local)) };
      rmSync(tmp, { recursive: true, force: true });
    }

    process.stdout.write(
      `${JSON.stringify({
        bench: 'images',
        cluster: 'arca cluster, 4 nodes, loopback; both uploads into the images bucket (ec-4+2)',
        imageMiB: imageSize / MiB,
        upload: { glanceMiBPerSec: mibPerSec(imageSize, glanceUploadMs), s3MiBPerSec: mibPerSec(imageSize, s3UploadMs) },
        stream: streams,
        random64k: { readers: 8, reads, readsPerSec: round(reads / (rMs / 1000)), p50Ms: round(percentile(sorted, 50)!), p99Ms: round(percentile(sorted, 99)!) },
        ...(qemu ? { qemuImgConvert: qemu } : {}),
      })}\n`,
    );
  } finally {
    await c.stop();
  }
}

await main();
