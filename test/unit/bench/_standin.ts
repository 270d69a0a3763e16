/**
 * A tiny in-memory S3 stand-in for the load generator's tests: path-style bucket and object PUT/GET/HEAD/DELETE
 * and ListObjectsV2, every request's SigV4 header signature checked with aws4 (an independent signer), every
 * request recorded. Faults can be injected per request to check that the runner counts them.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import aws4 from 'aws4';

export const ACCESS_KEY = 'AKIDSTANDIN';
export const SECRET_KEY = 'standin/secret+KEY';
export const REGION = 'us-east-1';

export interface Recorded {
  method: string;
  url: string;
  /** Object key, or '' for a bucket request. */
  key: string;
  status: number;
  /** Body bytes received (PUT). */
  received: number;
  /** The Content-Length header sent (PUT). */
  contentLength?: number;
  signatureOk: boolean;
  payloadHash: string;
}

/** What to do instead of answering normally: a status to return, or 'reset' to drop the connection. */
export type Fault = number | 'reset' | undefined;

export interface StandIn {
  endpoint: string;
  requests: Recorded[];
  /** Stored objects by key. */
  objects: Map<string, Buffer>;
  /** Called for each request before it is served; returning a fault replaces the answer. */
  fault: (method: string, key: string, n: number) => Fault;
  close(): Promise<void>;
}

/** Recomputes the request's signature with aws4 over exactly the headers it says it signed. */
function signatureOk(req: http.IncomingMessage): boolean {
  const auth = req.headers.authorization ?? '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m || m[1] !== ACCESS_KEY || m[3] !== REGION) return false;
  const headers: Record<string, string> = {};
  for (const name of m[4].split(';')) {
    const v = req.headers[name];
    if (typeof v !== 'string') return false;
    headers[name] = v;
  }
  if (!('host' in headers) || !('x-amz-date' in headers) || !('x-amz-content-sha256' in headers)) return false;
  if (headers['x-amz-date'].slice(0, 8) !== m[2]) return false;
  const signed = aws4.sign(
    { method: req.method, host: headers.host, path: req.url, headers: { ...headers }, service: 's3', region: REGION },
    { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers?.Authorization))?.[1];
  return expected === m[5];
}

function xmlError(res: http.ServerResponse, status: number, code: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export async function startStandIn(): Promise<StandIn> {
  const requests: Recorded[] = [];
  const objects = new Map<string, Buffer>();
  const buckets = new Set<string>();
  let n = 0;
  const standIn: StandIn = { endpoint: '', requests, objects, fault: () => undefined, close: async () => {} };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const method = req.method ?? 'GET';
    const record: Recorded = {
      method,
      url: req.url ?? '',
      key,
      status: 0,
      received: 0,
      contentLength: req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']),
      signatureOk: signatureOk(req),
      payloadHash: String(req.headers['x-amz-content-sha256']),
    };
    requests.push(record);
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      parts.push(c);
      record.received += c.length;
    });
    req.on('end', () => {
      const fault = standIn.fault(method, key, n++);
      if (fault === 'reset') {
        req.socket.destroy();
        return;
      }
      const answer = (status: number, headers: http.OutgoingHttpHeaders = {}, body?: Buffer | string) => {
        record.status = status;
        res.writeHead(status, { 'content-length': body === undefined ? 0 : Buffer.byteLength(body), ...headers });
        res.end(method === 'HEAD' ? undefined : body);
      };
      if (!record.signatureOk) return xmlError(res, (record.status = 403), 'SignatureDoesNotMatch');
      if (fault !== undefined) return xmlError(res, (record.status = fault), fault === 503 ? 'SlowDown' : 'InternalError');
      const body = Buffer.concat(parts);
      if (record.payloadHash !== 'UNSIGNED-PAYLOAD' && createHash('sha256').update(body).digest('hex') !== record.payloadHash) {
        return xmlError(res, (record.status = 400), 'XAmzContentSHA256Mismatch');
      }
      if (key === '') {
        if (method === 'PUT') {
          buckets.add(bucket);
          return answer(200);
        }
        if (!buckets.has(bucket)) return xmlError(res, (record.status = 404), 'NoSuchBucket');
        if (method === 'HEAD') return answer(200);
        const prefix = url.searchParams.get('prefix') ?? '';
        const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort().slice(0, Number(url.searchParams.get('max-keys') ?? 1000));
        const xml = `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${bucket}</Name><KeyCount>${keys.length}</KeyCount>${keys
          .map((k) => `<Contents><Key>${k}</Key><Size>${objects.get(k)!.length}</Size></Contents>`)
          .join('')}</ListBucketResult>`;
        return answer(200, { 'content-type': 'application/xml' }, xml);
      }
      if (!buckets.has(bucket)) return xmlError(res, (record.status = 404), 'NoSuchBucket');
      switch (method) {
        case 'PUT':
          objects.set(key, body);
          return answer(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` });
        case 'GET':
        case 'HEAD': {
          const obj = objects.get(key);
          if (!obj) return xmlError(res, (record.status = 404), 'NoSuchKey');
          return answer(200, {}, obj);
        }
        case 'DELETE':
          objects.delete(key);
          return answer(204);
        default:
          return xmlError(res, (record.status = 405), 'MethodNotAllowed');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standIn.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  standIn.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return standIn;
}
