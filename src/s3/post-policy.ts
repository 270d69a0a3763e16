/**
 * Browser-based uploads (PostObject): the policy document and the form's signature.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
 *
 * The policy is base64 JSON `{ "expiration": ISO-8601, "conditions": [...] }`; a condition is
 * `{ "field": "value" }` or `["eq", "$field", "value"]` (exact match), `["starts-with", "$field", "prefix"]`,
 * or `["content-length-range", min, max]` (the file's size). Every form field but `policy`,
 * `x-amz-signature`, `signature`, `AWSAccessKeyId`, `file` and `x-ignore-*` must be named by a condition.
 * Field names compare case-insensitively. The signature covers the base64 policy text: SigV4
 * (`x-amz-algorithm`, `x-amz-credential`, `x-amz-date`, `x-amz-signature`, hex HMAC-SHA256 under the
 * derived signing key) or SigV2 (`AWSAccessKeyId`, `signature`, base64 HMAC-SHA1 under the secret).
 * A form without a policy is anonymous.
 */
import { createHmac } from 'node:crypto';
import type { Principal } from '../common/identity.js';
import { deriveSigningKey, signaturesEqual } from './auth/signing-key.js';
import type { S3Deps } from './context.js';
import { S3Error } from './errors.js';

export type PolicyCondition =
  | { op: 'eq' | 'starts-with'; field: string; value: string }
  | { op: 'content-length-range'; min: number; max: number };

export interface PostPolicy {
  /** Milliseconds since the epoch. */
  expiration: number;
  conditions: PolicyCondition[];
}

/** Form fields by lower-case name. */
export type FormFields = ReadonlyMap<string, string>;

function invalidPolicy(detail: string): S3Error {
  return new S3Error('InvalidPolicyDocument', { message: `Invalid Policy: ${detail}` });
}

function denied(detail: string): S3Error {
  return new S3Error('AccessDenied', { message: `Invalid according to Policy: ${detail}` });
}

/** Decodes and checks the shape of a base64 policy document. */
export function parsePolicy(b64: string): PostPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));
  } catch {
    throw invalidPolicy('Invalid JSON.');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalidPolicy('Invalid JSON.');
  const { expiration, conditions } = doc as { expiration?: unknown; conditions?: unknown };
  if (expiration === undefined) throw invalidPolicy('Policy missing expiration.');
  const when = typeof expiration === 'string' ? Date.parse(expiration) : Number.NaN;
  if (Number.isNaN(when)) throw invalidPolicy(`Invalid 'expiration' value: '${String(expiration)}'`);
  if (!Array.isArray(conditions)) throw invalidPolicy('Policy missing conditions.');
  const out: PolicyCondition[] = [];
  for (const c of conditions) {
    if (Array.isArray(c)) {
      const [op, a, b] = c as unknown[];
      const opName = typeof op === 'string' ? op.toLowerCase() : '';
      if (opName === 'content-length-range') {
        const min = Number(a);
        const max = Number(b);
        if (c.length !== 3 || !Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min < 0 || min > max) {
          throw invalidPolicy('Invalid content-length-range condition.');
        }
        out.push({ op: 'content-length-range', min, max });
      } else if ((opName === 'eq' || opName === 'starts-with') && c.length === 3 && typeof a === 'string' && a.startsWith('$') && typeof b === 'string') {
        out.push({ op: opName, field: a.slice(1).toLowerCase(), value: b });
      } else {
        throw invalidPolicy(`Invalid condition: ${JSON.stringify(c)}`);
      }
    } else if (typeof c === 'object' && c !== null && Object.keys(c).length === 1) {
      const [field, value] = Object.entries(c)[0];
      if (typeof value !== 'string') throw invalidPolicy(`Invalid condition: ${JSON.stringify(c)}`);
      out.push({ op: 'eq', field: field.toLowerCase(), value });
    } else {
      throw invalidPolicy(`Invalid condition: ${JSON.stringify(c)}`);
    }
  }
  return { expiration: when, conditions: out };
}

/** Fields no condition needs to name. */
function exempt(name: string): boolean {
  return name === 'policy' || name === 'x-amz-signature' || name === 'signature' || name === 'awsaccesskeyid' || name === 'file' || name.startsWith('x-ignore-');
}

/** Checks the form against its policy (expiry, every condition, no unnamed field), as of `now`. */
export function checkPolicy(policy: PostPolicy, fields: FormFields, bucket: string, now: number): void {
  if (now > policy.expiration) throw denied('Policy expired.');
  const named = new Set<string>();
  for (const c of policy.conditions) {
    if (c.op === 'content-length-range') continue;
    named.add(c.field);
    const actual = c.field === 'bucket' ? bucket : (fields.get(c.field) ?? '');
    const ok = c.op === 'eq' ? actual === c.value : actual.startsWith(c.value);
    if (!ok) throw denied(`Policy Condition failed: ["${c.op}", "$${c.field}", ${JSON.stringify(c.value)}]`);
  }
  for (const name of fields.keys()) {
    if (!exempt(name) && !named.has(name)) throw denied(`Extra input fields: ${name}`);
  }
}

/** The `content-length-range` of a policy, if it has one (the tightest, if several). */
export function lengthRange(policy: PostPolicy): { min: number; max: number } | undefined {
  let range: { min: number; max: number } | undefined;
  for (const c of policy.conditions) {
    if (c.op !== 'content-length-range') continue;
    range = range ? { min: Math.max(range.min, c.min), max: Math.min(range.max, c.max) } : { min: c.min, max: c.max };
  }
  return range;
}

function missingField(name: string): S3Error {
  return new S3Error('InvalidArgument', {
    message: `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`,
    extra: { ArgumentName: name, ArgumentValue: '' },
  });
}

/**
 * Who signed the form: undefined for a form without a policy (anonymous), the principal of the access key
 * whose signature over the policy verifies, or the S3 error AWS answers.
 */
export async function authenticateForm(fields: FormFields, deps: S3Deps): Promise<Principal | undefined> {
  const policy = fields.get('policy');
  if (policy === undefined) return undefined;
  let accessKey: string;
  let verify: (secret: string) => boolean;
  if (fields.has('x-amz-signature') || fields.has('x-amz-algorithm') || fields.has('x-amz-credential')) {
    for (const name of ['x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-signature']) if (!fields.has(name)) throw missingField(name);
    const algorithm = fields.get('x-amz-algorithm')!;
    if (algorithm !== 'AWS4-HMAC-SHA256') {
      throw new S3Error('InvalidArgument', { message: 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"', extra: { ArgumentName: 'x-amz-algorithm', ArgumentValue: algorithm } });
    }
    const credential = fields.get('x-amz-credential')!;
    const parts = credential.split('/');
    if (parts.length !== 5 || !/^\d{8}$/.test(parts[1]) || parts[3] !== 's3' || parts[4] !== 'aws4_request') {
      throw new S3Error('InvalidArgument', { message: `Invalid credential: ${credential}`, extra: { ArgumentName: 'x-amz-credential', ArgumentValue: credential } });
    }
    if (parts[2] !== deps.region) {
      throw new S3Error('InvalidArgument', {
        message: `Error parsing the X-Amz-Credential parameter; the region '${parts[2]}' is wrong; expecting '${deps.region}'`,
        extra: { ArgumentName: 'x-amz-credential', ArgumentValue: credential },
      });
    }
    accessKey = parts[0];
    const signature = fields.get('x-amz-signature')!.toLowerCase();
    verify = (secret) => signaturesEqual(createHmac('sha256', deriveSigningKey(secret, parts[1], parts[2], 's3')).update(policy).digest('hex'), signature);
  } else {
    for (const name of ['AWSAccessKeyId', 'signature']) if (!fields.has(name.toLowerCase())) throw missingField(name);
    accessKey = fields.get('awsaccesskeyid')!;
    const signature = fields.get('signature')!;
    verify = (secret) => signaturesEqual(createHmac('sha1', secret).update(policy).digest('base64'), signature);
  }
  const creds = await deps.identity.lookup(accessKey);
  if (!creds) throw new S3Error('InvalidAccessKeyId', { extra: { AWSAccessKeyId: accessKey } });
  if (!verify(creds.secretKey)) throw new S3Error('SignatureDoesNotMatch', { extra: { AWSAccessKeyId: accessKey, StringToSign: policy } });
  const { secretKey: _, ...principal } = creds;
  return principal;
}
