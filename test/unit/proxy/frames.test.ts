/**
 * The framed protocol between proxy and nodes (src/common/frames.ts, storage-nodes/frame-server.ts): the
 * decoder on every split of its input, the proxy's client against a real storage node, and the failures —
 * a node that does not speak frames, one that drops the connection or goes silent, and bad frames sent to a
 * node; a connection left unused is closed, and one whose peer stopped reading is destroyed.
 */
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import test from 'ava';
import { FrameClient, FrameDecoder, FrameWriter, encodeFrameHead, framesUpgrade } from '../../../src/common/frames.js';
import { objectPath } from '../../../src/common/wire.js';
import { NodeClient } from '../../../src/proxy/node-client.js';
import { withNode } from '../storage-nodes/node-fixture.js';

const t1 = '1700000001.000000';
const o = (key: string) => objectPath('d1', 3, 'AUTH_a', 'bkt', key);

function frame(id: number, head: unknown, body = Buffer.alloc(0)): Buffer {
  return Buffer.concat([encodeFrameHead(id, head, body.length), body]);
}

test('the decoder returns the same frames however the bytes are split, bodies intact', (t) => {
  const bodies = [Buffer.alloc(0), Buffer.from('x'), Buffer.alloc(70_000, 7)];
  const wire = Buffer.concat(bodies.map((b, i) => frame(i + 1, ['GET', `/p/${i}`, { a: String(i) }], b)));
  for (const step of [1, 3, 11, 4096, wire.length]) {
    const d = new FrameDecoder();
    const got = [];
    for (let i = 0; i < wire.length; i += step) got.push(...d.push(wire.subarray(i, i + step)));
    t.deepEqual(
      got.map((f) => [f.id, f.head, f.body.length, f.body.equals(bodies[f.id - 1])]),
      bodies.map((b, i) => [i + 1, ['GET', `/p/${i}`, { a: String(i) }], b.length, true]),
      `split every ${step} bytes`,
    );
  }
});

test('the decoder refuses a frame over the limit and a head longer than its frame', (t) => {
  const huge = Buffer.alloc(12);
  huge.writeUInt32BE(0xffffffff, 0);
  t.throws(() => new FrameDecoder().push(huge), { message: /frame of/ });
  const bad = frame(1, ['GET', '/', {}]);
  bad.writeUInt32BE(1000, 8);
  t.throws(() => new FrameDecoder().push(bad), { message: /frame head of 1000 bytes/ });
});

test(
  "small requests and reads go framed on one connection (the HTTP agent stays unused); a body over the read's limit streams over HTTP",
  withNode(async (t, n) => {
    const client = new NodeClient({ connTimeoutMs: 1000, nodeTimeoutMs: 5000 });
    const node = { ip: '127.0.0.1', port: n.port };
    try {
      const small = Buffer.from('small body');
      const big = Buffer.alloc(100_000);
      for (let i = 0; i < big.length; i++) big[i] = i % 251;
      t.is((await n.put(o('small'), { ts: t1, body: small })).status, 201);
      t.is((await n.put(o('big'), { ts: t1, body: big })).status, 201);

      const heads = await Promise.all(Array.from({ length: 20 }, () => client.request(node, { method: 'HEAD', path: o('small') })));
      t.deepEqual(new Set(heads.map((h) => `${h.status} ${h.headers['content-length']} ${h.headers['x-backend-timestamp']} ${h.body.length}`)), new Set([`200 10 ${t1} 0`]));
      const read = await client.read(node, { method: 'GET', path: o('small') }, 64 * 1024);
      t.is(read.status, 200);
      t.deepEqual(read.body, small);
      t.is((await client.read(node, { method: 'GET', path: o('absent') }, 64 * 1024)).status, 404);
      const ranged = await client.read(node, { method: 'GET', path: o('big'), headers: { range: 'bytes=10-19' } }, 64 * 1024);
      t.is(ranged.status, 206);
      t.deepEqual(ranged.body, big.subarray(10, 20));
      // A body the node streams from its file (and frees chunk by chunk once sent) comes whole and intact.
      const whole = await client.read(node, { method: 'GET', path: o('big') }, 1024 * 1024);
      t.is(whole.status, 200);
      t.true(whole.body?.equals(big), 'streamed by the node, framed whole');
      t.deepEqual(Object.keys(client.agent.sockets), [], 'no HTTP request so far');
      t.deepEqual(Object.keys(client.agent.freeSockets), []);

      const streamed = await client.read(node, { method: 'GET', path: o('big') }, 64 * 1024);
      t.is(streamed.status, 200);
      t.truthy(streamed.stream, 'streamed, not held');
      const chunks: Buffer[] = [];
      for await (const c of streamed.stream as AsyncIterable<Buffer>) chunks.push(c);
      t.deepEqual(Buffer.concat(chunks), big);
      t.is(Object.keys(client.agent.freeSockets).length, 1, 'the large body came over HTTP');

      // A write with a body, framed: the node stores it as it would over HTTP.
      const put = await client.request(node, {
        method: 'DELETE',
        path: o('small'),
        headers: { 'x-backend-timestamp': '1700000002.000000', 'x-backend-container-updates': '[]' },
      });
      t.is(put.status, 204);
      t.is((await n.request('GET', o('small'))).status, 404);
    } finally {
      client.close();
    }
  }),
);

/** A TCP server for the client to meet: `onSocket` gets each connection. */
async function fakeNode(onSocket: (socket: Socket) => void): Promise<{ port: number; close(): void }> {
  const server = net.createServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

/** A fake node that takes the upgrade, then does `after` with the socket once the first frame is in. */
function upgrading(after: (socket: Socket, frames: Buffer) => void) {
  return (socket: Socket) => {
    socket.once('data', (chunk: Buffer) => {
      t0Check(chunk);
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: ${framesUpgrade}\r\n\r\n`);
      socket.once('data', (frames: Buffer) => after(socket, frames));
    });
    socket.on('error', () => {});
  };
}

function t0Check(chunk: Buffer): void {
  if (!/upgrade: arca-frames/i.test(chunk.toString())) throw new Error('no upgrade request');
}

test('a node that does not take frames (an older version) is asked over HTTP', async (t) => {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'x-seen': `${req.method} ${req.url}`, 'content-length': 5 });
    res.end('plain');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new NodeClient({ connTimeoutMs: 1000, nodeTimeoutMs: 2000 });
  try {
    const node = { ip: '127.0.0.1', port: (server.address() as AddressInfo).port };
    for (let i = 0; i < 2; i++) {
      const reply = await client.request(node, { method: 'HEAD', path: '/o/d1/3/x' });
      t.is(reply.status, 200);
      t.is(reply.headers['x-seen'], 'HEAD /o/d1/3/x');
      const read = await client.read(node, { method: 'GET', path: '/o/d1/3/x' }, 1024);
      t.is(read.body?.toString(), 'plain');
    }
  } finally {
    client.close();
    server.close();
  }
});

test('a node that drops the connection fails the requests in flight, and the next request connects again', async (t) => {
  let connections = 0;
  const fake = await fakeNode((socket) => {
    connections++;
    upgrading((s) => s.destroy())(socket);
  });
  const client = new NodeClient({ connTimeoutMs: 1000, nodeTimeoutMs: 5000 });
  try {
    const node = { ip: '127.0.0.1', port: fake.port };
    const results = await Promise.allSettled([1, 2, 3].map(() => client.request(node, { method: 'HEAD', path: '/o/d1/3/x' })));
    t.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected', 'rejected'],
    );
    t.regex(String((results[0] as PromiseRejectedResult).reason), /closed the connection/);
    await t.throwsAsync(client.request(node, { method: 'HEAD', path: '/o/d1/3/x' }), { message: /closed the connection/ });
    t.is(connections, 2);
  } finally {
    client.close();
    fake.close();
  }
});

test('a node that takes the request and stays silent fails it after the node timeout; a late reply is dropped', async (t) => {
  let socket: Socket | undefined;
  let first: Buffer | undefined;
  const fake = await fakeNode(
    upgrading((s, frames) => {
      socket = s;
      first = frames;
    }),
  );
  const client = new NodeClient({ connTimeoutMs: 1000, nodeTimeoutMs: 300 });
  try {
    const node = { ip: '127.0.0.1', port: fake.port };
    const started = performance.now();
    await t.throwsAsync(client.request(node, { method: 'HEAD', path: '/o/d1/3/x' }), { code: 'Timeout', message: /silent for 300 ms/ } as never);
    t.true(performance.now() - started >= 290);
    // The reply comes after all: nobody waits for it, and the connection goes on serving.
    const [f] = new FrameDecoder().push(first as Buffer);
    socket?.write(frame(f.id, [200, {}]));
    const next = client.request(node, { method: 'HEAD', path: '/o/d1/3/y' });
    await new Promise((r) => setTimeout(r, 50));
    socket?.write(frame(f.id + 1, [204, { 'x-ok': '1' }]));
    t.is((await next).headers['x-ok'], '1');
  } finally {
    client.close();
    fake.close();
  }
});

test('a reply that is not [status, headers] ends the connection: its requests fail, the process goes on', async (t) => {
  const fake = await fakeNode(
    upgrading((s, frames) => {
      const [f] = new FrameDecoder().push(frames);
      s.write(frame(f.id, { status: 200 }));
    }),
  );
  const client = new NodeClient({ connTimeoutMs: 1000, nodeTimeoutMs: 2000 });
  try {
    const node = { ip: '127.0.0.1', port: fake.port };
    const results = await Promise.allSettled([client.request(node, { method: 'HEAD', path: '/x' }), client.request(node, { method: 'HEAD', path: '/y' })]);
    t.deepEqual(
      results.map((r) => r.status === 'rejected' && /closed the connection/.test(String(r.reason))),
      [true, true],
    );
  } finally {
    client.close();
    fake.close();
  }
});

test('a node that answers status 0 (it broke the request off) fails that request only', async (t) => {
  const fake = await fakeNode(
    upgrading((s, frames) => {
      const [f] = new FrameDecoder().push(frames);
      s.write(frame(f.id, [0, {}]));
    }),
  );
  const client = new NodeClient({ connTimeoutMs: 1000, nodeTimeoutMs: 2000 });
  try {
    await t.throwsAsync(client.request({ ip: '127.0.0.1', port: fake.port }, { method: 'HEAD', path: '/x' }), { message: /broke off the request/ });
  } finally {
    client.close();
    fake.close();
  }
});

test('a client closes a connection it did not use for a whole sweep interval, and connects again when asked', async (t) => {
  let connections = 0;
  let closes = 0;
  const fake = await fakeNode((socket) => {
    connections++;
    socket.on('close', () => closes++);
    upgrading((s, first) => {
      const decoder = new FrameDecoder();
      const answer = (chunk: Buffer) => {
        for (const f of decoder.push(chunk)) s.write(frame(f.id, [204, {}]));
      };
      answer(first);
      s.on('data', answer);
    })(socket);
  });
  const client = new FrameClient({ connTimeoutMs: 1000, nodeTimeoutMs: 2000, idleMs: 300 });
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  try {
    const ask = async () => (await client.request('127.0.0.1', fake.port, 'HEAD', '/x', {}))?.status;
    // Asked within every interval: the connection stays.
    for (let i = 0; i < 12; i++) {
      t.is(await ask(), 204);
      await sleep(50);
    }
    t.is(connections, 1);
    t.is(closes, 0);
    // Not asked for a whole interval: closed at the next sweep (within two intervals).
    for (let waited = 0; closes === 0 && waited < 5000; waited += 50) await sleep(50);
    t.is(closes, 1);
    t.is(await ask(), 204);
    t.is(connections, 2);
  } finally {
    client.close();
    fake.close();
  }
});

test('a frame writer destroys the connection once its peer left more than the budget unread; a reading peer is not', async (t) => {
  const budget = 4 * 1024 * 1024;
  const body = Buffer.alloc(256 * 1024, 7);
  const send = async (reading: boolean) => {
    let received = 0;
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      if (reading) socket.on('data', (chunk: Buffer) => (received += chunk.length));
      else socket.pause();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    const writer = new FrameWriter(socket, budget);
    let sent = 0;
    // 32 MiB: to a peer that reads, each frame once the socket took the one before (the peer here shares
    // this process's event loop, so a sender that never waited could outrun it); to a stuck one, a frame
    // per turn of the event loop.
    for (let id = 1; id <= 128 && !socket.destroyed; id++) {
      const taken = new Promise<void>((resolve) => writer.send(encodeFrameHead(id, [200, {}], body.length), body, resolve));
      sent++;
      await (reading ? taken : new Promise((resolve) => setImmediate(resolve)));
    }
    const destroyed = socket.destroyed;
    socket.destroy();
    server.close();
    return { destroyed, sent, received };
  };
  const stuck = await send(false);
  t.true(stuck.destroyed, 'a peer that reads nothing');
  t.true(stuck.sent < 128, `destroyed after ${stuck.sent} of 128 frames`);
  const fine = await send(true);
  t.false(fine.destroyed, 'a peer that reads');
  t.is(fine.sent, 128);
});

/** Opens a framed connection to a node by hand and returns its socket, the 101 read. */
function rawFrames(port: number, protocol = framesUpgrade): Promise<{ socket: Socket; status: number }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(`GET /frames HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: ${protocol}\r\n\r\n`);
    });
    socket.once('error', reject);
    let got = '';
    const onData = (c: Buffer) => {
      got += c.toString('latin1');
      if (!got.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      resolve({ socket, status: Number(got.split(' ')[1]) });
    };
    socket.on('data', onData);
  });
}

function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once('close', () => resolve());
  });
}

test(
  'a node refuses other upgrades, closes a connection that sends a bad frame, and goes on serving',
  withNode(async (t, n) => {
    const other = await rawFrames(n.port, 'websocket');
    t.is(other.status, 400);
    other.socket.destroy();

    const oversize = await rawFrames(n.port);
    t.is(oversize.status, 101);
    const huge = Buffer.alloc(12);
    huge.writeUInt32BE(0x7fffffff, 0);
    oversize.socket.write(huge);
    await closed(oversize.socket);

    const notAHead = await rawFrames(n.port);
    notAHead.socket.write(frame(1, { method: 'GET' }));
    await closed(notAHead.socket);

    const garbage = await rawFrames(n.port);
    const g = frame(1, ['GET', '/healthcheck', {}]);
    g.write('!', 12); // the head is no longer JSON
    garbage.socket.write(g);
    await closed(garbage.socket);

    t.is((await n.request('GET', '/healthcheck')).status, 200);
    const client = new NodeClient({ connTimeoutMs: 1000, nodeTimeoutMs: 2000 });
    try {
      t.is((await client.request({ ip: '127.0.0.1', port: n.port }, { method: 'GET', path: '/healthcheck' })).body.toString(), 'OK');
    } finally {
      client.close();
    }
  }),
);
