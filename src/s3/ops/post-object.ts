/** PostObject — https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html */
import { Transform } from 'node:stream';
import { Digester } from '../../common/checksums.js';
import type { PutFinish } from '../../proxy/object-store.js';
import { accessBucket, type Handler, type S3Response, xmlResponse } from '../context.js';
import { S3Error } from '../errors.js';
import { boundaryOf, readForm } from '../form-data.js';
import { checkRequestAcl } from '../access/request-acl.js';
import { accessMeta } from '../object-meta.js';
import { storedHeaderNames } from '../object-response.js';
import { authenticateForm, checkPolicy, type FormFields, lengthRange, parsePolicy } from '../post-policy.js';
import { customerKey, encryptUpload, sealFor, sseHeaders } from '../sse-c.js';
import { relay } from '../relay.js';
import { parseTaggingXml } from '../tagging.js';
import { maxSinglePutBytes } from '../upload.js';
import { escapeXml, S3_XMLNS } from '../xml.js';
import { checkKey } from './put-object.js';

/** The object metadata the form's fields set (as the same headers would on PutObject). */
function formMeta(fields: FormFields, fileType: string | undefined): { contentType: string; meta: Record<string, unknown> } {
  const meta: Record<string, unknown> = {};
  const headers: Record<string, string> = {};
  for (const name of storedHeaderNames) {
    const v = fields.get(name);
    if (v) headers[name] = v;
  }
  if (Object.keys(headers).length) meta.headers = headers;
  const userMeta: Record<string, string> = {};
  for (const [name, value] of fields) if (name.startsWith('x-amz-meta-')) userMeta[name.slice('x-amz-meta-'.length)] = value;
  if (Object.keys(userMeta).length) meta.userMeta = userMeta;
  const tagging = fields.get('tagging');
  if (tagging) {
    const tags = parseTaggingXml(tagging, 'object');
    if (tags.length) meta.tags = tags;
  }
  return { contentType: fields.get('content-type') || fileType || 'binary/octet-stream', meta };
}

/** The answer S3 gives after a successful POST: a 303 to `success_action_redirect`, else by `success_action_status`. */
function success(fields: FormFields, location: string, bucket: string, key: string, etag: string, headers: Record<string, string>): S3Response {
  const redirect = fields.get('success_action_redirect') ?? fields.get('redirect');
  if (redirect) {
    try {
      const url = new URL(redirect);
      url.searchParams.set('bucket', bucket);
      url.searchParams.set('key', key);
      url.searchParams.set('etag', `"${etag}"`);
      return { status: 303, headers: { ...headers, location: url.toString() } };
    } catch {
      // Not a URL: AWS falls back to the status.
    }
  }
  const status = fields.get('success_action_status');
  if (status === '201') {
    return xmlResponse(
      `<PostResponse xmlns="${S3_XMLNS}"><Location>${escapeXml(location)}</Location><Bucket>${escapeXml(bucket)}</Bucket>` +
        `<Key>${escapeXml(key)}</Key><ETag>&quot;${etag}&quot;</ETag></PostResponse>`,
      201,
      headers,
    );
  }
  return { status: status === '200' ? 200 : 204, headers };
}

export const postObject: Handler = async (req, deps) => {
  const form = await readForm(req.body(), boundaryOf(req.headers['content-type'] as string | undefined));
  const file = form.file;
  if (!file) {
    throw new S3Error('InvalidArgument', { message: 'POST requires exactly one file upload per request.', extra: { ArgumentName: 'file', ArgumentValue: '0' } });
  }
  try {
    const fields = new Map<string, string>();
    for (const f of form.fields) if (!fields.has(f.name.toLowerCase())) fields.set(f.name.toLowerCase(), f.value);
    const rawKey = fields.get('key');
    if (rawKey === undefined) {
      throw new S3Error('InvalidArgument', {
        message: "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
        extra: { ArgumentName: 'key', ArgumentValue: '' },
      });
    }
    const principal = await authenticateForm(fields, deps);
    const policyText = fields.get('policy');
    const policy = policyText === undefined ? undefined : parsePolicy(policyText);
    if (policy) checkPolicy(policy, fields, req.bucketName!, Date.now());
    // biome-ignore lint/suspicious/noTemplateCurlyInString: S3's form variable, literally `${filename}`.
    const key = rawKey.replaceAll('${filename}', file.filename);
    if (key === '') throw new S3Error('InvalidArgument', { message: 'User key must have a length greater than 0.', extra: { ArgumentName: 'key', ArgumentValue: '' } });
    checkKey(key);
    const bucket = await accessBucket({ ...req, principal, key }, deps, req.bucketName!, 's3:PutObject', key);
    const { contentType, meta: fieldMeta } = formMeta(fields, file.contentType);
    const aclFields = fields.has('acl') ? { 'x-amz-acl': fields.get('acl') } : {};
    // The form's ACL is checked as PutObject's headers are (grantees, BucketOwnerEnforced, BlockPublicAcls).
    await checkRequestAcl(aclFields, bucket, principal?.account ?? bucket.account, deps.identity);
    const meta = { ...fieldMeta, ...accessMeta(aclFields, principal?.account, bucket) };
    const ck = customerKey(Object.fromEntries(fields));
    const range = policy && lengthRange(policy);
    const max = Math.min(range?.max ?? maxSinglePutBytes, maxSinglePutBytes);
    const digester = new Digester({ md5: true });
    let size = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > max) {
          cb(new S3Error('EntityTooLarge', { message: 'Your proposed upload exceeds the maximum allowed size', extra: { MaxSizeAllowed: String(max) } }));
          return;
        }
        digester.update(chunk);
        cb(null, chunk);
      },
    });
    relay(file.body, counted);
    const finish = (): PutFinish => {
      if (range && size < range.min) {
        throw new S3Error('EntityTooSmall', {
          message: 'Your proposed upload is smaller than the minimum allowed size',
          extra: { ProposedSize: String(size), MinSizeAllowed: String(range.min) },
        });
      }
      return { etag: digester.digest().md5Hex! };
    };
    let write: { body: Transform | ReturnType<typeof encryptUpload>['body']; finish: () => PutFinish } = { body: counted, finish };
    if (ck) {
      const sealed = encryptUpload(counted, ck, sealFor(ck));
      write = { body: sealed.body, finish: () => sealed.finish(finish()) };
    }
    const info = await deps.store.putObject(bucket, key, { body: write.body, contentType, meta, finish: write.finish, event: 'ObjectCreated:Post' });
    const path = `/${bucket.name}/${key}`.split('/').map(encodeURIComponent).join('/');
    const location = `http://${String(req.headers.host ?? '')}${path}`;
    const headers: Record<string, string> = { etag: `"${info.etag}"`, location, ...sseHeaders(ck) };
    if (form.leftover()) headers.connection = 'close';
    return success(fields, location, bucket.name, key, info.etag, headers);
  } catch (err) {
    file.body.destroy();
    throw err;
  }
};
