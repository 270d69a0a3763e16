import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import test from 'ava';
import { canFreeBytes, freeAll, freeBytes } from '../../../src/common/free-bytes.js';

const MiB = 1024 * 1024;
const run = promisify(execFile);

test('Node 20 can free buffers (ArrayBuffer.prototype.transfer, behind a V8 flag there)', (t) => {
  t.true(canFreeBytes);
});

test('freeing the chunks of an upload gives their memory back before any collection', (t) => {
  const chunks = Array.from({ length: 512 }, () => Buffer.allocUnsafeSlow(64 * 1024).fill(7));
  const held = process.memoryUsage().arrayBuffers;
  freeAll(chunks);
  const after = process.memoryUsage().arrayBuffers;
  t.true(held - after >= 31 * MiB, `arrayBuffers ${held} -> ${after}`);
  t.true(chunks.every((c) => c.length === 0 && c.buffer.byteLength === 0));
});

test('a view of part of an ArrayBuffer is left alone, and so is the buffer it shares', (t) => {
  const pooled = Buffer.from('small strings share the pool');
  freeBytes(pooled);
  t.is(pooled.toString(), 'small strings share the pool');
  const whole = Buffer.allocUnsafeSlow(4096).fill(1);
  const part = whole.subarray(0, 100);
  freeBytes(part);
  t.is(whole.length, 4096);
  t.is(part[99], 1);
  freeBytes(new Uint8Array(0));
  t.pass();
});

test('a worker thread frees a buffer moved to it (the write queue)', async (t) => {
  const url = new URL('../../../src/common/free-bytes.js', import.meta.url).href;
  // In a process of its own (ava's test files share this one): its RSS falls when the worker frees the
  // 32 MiB buffer, a mapping of its own that goes back to the kernel.
  const script = `
    const { Worker } = require('node:worker_threads');
    const code = \`
      const { parentPort } = require('node:worker_threads');
      import(\${JSON.stringify(${JSON.stringify(url)})}).then(({ freeBytes }) => parentPort.once('message', (data) => {
        const before = process.memoryUsage.rss();
        freeBytes(data);
        parentPort.postMessage({ length: data.length, freed: before - process.memoryUsage.rss() });
      }));\`;
    const worker = new Worker(code, { eval: true });
    const data = new Uint8Array(32 * 1048576).fill(3);
    // The worker's port keeps the message until its module has loaded and listens.
    worker.postMessage(data, [data.buffer]);
    worker.once('message', (reply) => { console.log(JSON.stringify(reply)); worker.terminate(); });`;
  const { stdout } = await run(process.execPath, ['-e', script]);
  const reply = JSON.parse(stdout) as { length: number; freed: number };
  t.is(reply.length, 0);
  t.true(reply.freed >= 30 * MiB, `RSS fell by ${reply.freed} bytes`);
});
