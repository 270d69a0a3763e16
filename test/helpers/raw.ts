/** Raw, SigV4-signed HTTP requests (aws4 as the signer) for tests that need control the SDKs don't give. */
import http from 'node:http';
import aws4 from 'aws4';
import type { TestCluster } from './cluster.js';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Signs a request for the cluster (UNSIGNED-PAYLOAD unless headers say otherwise). */
export function signedOptions(cluster: TestCluster, method: string, path: string, headers: Record<string, string> = {}): http.RequestOptions {
  const url = new URL(cluster.endpoint);
  const opts = {
    host: url.hostname,
    port: Number(url.port),
    method,
    path,
    service: 's3',
    region: 'us-east-1',
    headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...headers },
  };
  aws4.sign(opts, { accessKeyId: cluster.accessKey, secretAccessKey: cluster.secretKey });
  return opts as http.RequestOptions;
}

/** Sends a signed request with a whole body and reads the whole reply. */
export function rawRequest(cluster: TestCluster, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<RawResponse> {
  return sendRequest(signedOptions(cluster, method, path, headers), body);
}

/**
 * Sends a prepared request (e.g. with `agent` set to a keep-alive agent, to see that the connection is
 * released after an error) with a whole body, or none, and reads the whole reply.
 */
export function sendRequest(options: http.RequestOptions, body?: Buffer | string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(options, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
