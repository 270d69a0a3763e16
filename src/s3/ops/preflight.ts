/**
 * The CORS preflight (`OPTIONS` on a bucket or object) — https://docs.aws.amazon.com/AmazonS3/latest/API/RESTOPTIONSobject.html
 * Unauthenticated by design: browsers send no credentials with a preflight.
 */
import { emptyResponse, type Handler } from '../context.js';
import { corsHeaders, corsRules, matchCorsRule, requestedHeaders } from '../cors.js';
import { S3Error } from '../errors.js';

const methods = new Set(['GET', 'PUT', 'POST', 'DELETE', 'HEAD']);

export const preflight: Handler = async (req, deps) => {
  const origin = req.headers.origin;
  const method = req.headers['access-control-request-method'] as string | undefined;
  if (!origin) throw new S3Error('BadRequest', { message: 'Insufficient information. Origin request header needed.' });
  if (!method || !methods.has(method)) throw new S3Error('BadRequest', { message: `Invalid Access-Control-Request-Method: ${method ?? 'null'}` });
  const name = req.bucketName!;
  const bucket = name.startsWith('.') ? undefined : await deps.store.getBucket(name);
  if (!bucket) throw new S3Error('NoSuchBucket', { extra: { BucketName: name } });
  const rules = corsRules(bucket);
  if (!rules) throw new S3Error('AccessForbidden', { message: 'CORSResponse: CORS is not enabled for this bucket.' });
  const headers = requestedHeaders(req.headers['access-control-request-headers']);
  const rule = matchCorsRule(rules, origin, method, headers);
  if (!rule) {
    throw new S3Error('AccessForbidden', {
      message:
        "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
      extra: { Method: method, ResourceType: req.key === undefined ? 'BUCKET' : 'OBJECT' },
    });
  }
  return emptyResponse(200, corsHeaders(rule, origin, headers));
};
