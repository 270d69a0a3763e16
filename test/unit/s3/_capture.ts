/**
 * A loopback HTTP server that records what real clients send (method, raw URL, headers, body), so tests can
 * feed the exact bytes of an SDK request to the authentication and aws-chunked code.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';

export interface Captured {
  method: string;
  rawUrl: string;
  headers: Record<string, string | string[] | undefined>;
  distinct: Record<string, string[]>;
  body: Buffer;
}

export interface CaptureServer {
  port: number;
  endpoint: string;
  requests: Captured[];
  close(): Promise<void>;
}

/** Starts a server that answers every request with 200 and the body's MD5 as ETag, recording it. */
export async function startCaptureServer(): Promise<CaptureServer> {
  const requests: Captured[] = [];
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      requests.push({
        method: req.method ?? 'GET',
        rawUrl: req.url ?? '/',
        headers: req.headers,
        distinct: req.headersDistinct as Record<string, string[]>,
        body: Buffer.concat(parts),
      });
      // The MD5 ETag keeps clients that check it (s3cmd, rclone) from retrying.
      res.setHeader('etag', `"${createHash('md5').update(Buffer.concat(parts)).digest('hex')}"`);
      res.setHeader('content-length', '0');
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const AKID = 'AKIDEXAMPLE';
export const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';

/** An SDK client pointed at the capture server, as CLIENTS.md describes the test setup. */
export function sdkClient(endpoint: string, extra: Record<string, unknown> = {}): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: AKID, secretAccessKey: SECRET },
    maxAttempts: 1,
    ...extra,
  });
}

/** Sends a GET for `url` (a presigned URL) and waits for the answer. */
export function plainGet(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end();
  });
}

/** A secret lookup knowing only the test key. */
export const lookup = async (akid: string) => (akid === AKID ? SECRET : undefined);
