/**
 * Bucket policies: the JSON document checked when it is stored (MalformedPolicy with AWS's wording for the
 * usual mistakes) and evaluated per request. What is supported of the IAM policy language: Effect
 * Allow/Deny; Principal / NotPrincipal as `*`, `{"AWS": …}` with `*`, account names, `arn:aws:iam::ACCOUNT:root`
 * and `arn:aws:iam::ACCOUNT:user/NAME`, or `{"CanonicalUser": account}` (`Service` and `Federated` principals
 * are accepted and never match); Action / NotAction with `*` and `?` wildcards (case-insensitive); Resource /
 * NotResource on this bucket's ARNs with wildcards; Condition with the operators of conditions.ts. Policy
 * variables (`${aws:username}`) are not expanded.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html
 */
import type { IdentityProvider, Principal } from '../../common/identity.js';
import { S3Error } from '../errors.js';
import { actions, type IamAction } from './actions.js';
import { type Condition, type ConditionKeys, conditionsHold, globToRegExp, parseConditions } from './conditions.js';

/** Largest policy document S3 accepts (20 KB). */
export const maxPolicyBytes = 20 * 1024;

type PrincipalMatcher =
  | { kind: 'any' }
  | { kind: 'account'; account: string }
  | { kind: 'user'; account: string; name: string }
  /** Service and federated principals: valid, but no Arca caller is one. */
  | { kind: 'none' };

interface Pattern {
  text: string;
  re: RegExp;
}

export interface Statement {
  sid?: string;
  effect: 'Allow' | 'Deny';
  principals: PrincipalMatcher[];
  /** NotPrincipal: the statement applies to everyone the list does not match. */
  notPrincipal: boolean;
  actions: Pattern[];
  notAction: boolean;
  resources: Pattern[];
  notResource: boolean;
  conditions: Condition[];
}

export interface BucketPolicy {
  statements: Statement[];
}

/** What a policy is evaluated against. */
export interface PolicyRequest {
  principal?: Principal;
  action: string;
  /** The ARN of the bucket or object. */
  resource: string;
  /**
   * When the object's key is not known (DeleteObjects, PostObject before the form is read): the ARN prefix of
   * the bucket's objects. The question is then "may the caller do this to some key?": Allow statements count
   * when they may match a key, Deny statements only when they match every key. Each key must be checked
   * again once known.
   */
  anyKeyPrefix?: string;
  keys: ConditionKeys;
}

function malformed(message: string): S3Error {
  return new S3Error('MalformedPolicy', { message });
}

const statementFields = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);

function stringList(v: unknown, what: string): string[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || list.some((s) => typeof s !== 'string' || s === '')) throw malformed(`Policy has invalid ${what}`);
  return list as string[];
}

function parsePrincipal(v: unknown): PrincipalMatcher[] {
  if (v === '*') return [{ kind: 'any' }];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed('Invalid principal in policy');
  const out: PrincipalMatcher[] = [];
  for (const [type, values] of Object.entries(v)) {
    const list = stringList(values, 'principal');
    for (const s of list) {
      if (type === 'AWS') {
        let m: RegExpExecArray | null;
        if (s === '*') out.push({ kind: 'any' });
        else if ((m = /^arn:aws:iam::([^:/]+):root$/.exec(s))) out.push({ kind: 'account', account: m[1] });
        else if ((m = /^arn:aws:iam::([^:/]+):user\/(?:.*\/)?([^/]+)$/.exec(s))) out.push({ kind: 'user', account: m[1], name: m[2] });
        else if (/^[A-Za-z0-9][A-Za-z0-9_.@+=,-]*$/.test(s)) out.push({ kind: 'account', account: s });
        else throw malformed('Invalid principal in policy');
      } else if (type === 'CanonicalUser') out.push({ kind: 'account', account: s });
      else if (type === 'Service' || type === 'Federated') out.push({ kind: 'none' });
      else throw malformed('Invalid principal in policy');
    }
  }
  if (out.length === 0) throw malformed('Invalid principal in policy');
  return out;
}

function parseActions(v: unknown): Pattern[] {
  return stringList(v, 'action').map((a) => {
    if (!/^(\*|s3:[A-Za-z0-9*?]+)$/i.test(a)) throw malformed('Policy has invalid action');
    return { text: a, re: globToRegExp(a, 'i') };
  });
}

function parseResources(v: unknown, bucket: string): Pattern[] {
  const arn = `arn:aws:s3:::${bucket}`;
  return stringList(v, 'resource').map((r) => {
    if (r !== arn && !r.startsWith(`${arn}/`)) throw malformed('Policy has invalid resource');
    return { text: r, re: globToRegExp(r) };
  });
}

/** Refuses an action that can apply to none of the statement's resources (s3:GetObject on the bucket ARN…). */
function checkActionsApply(st: Statement, bucket: string): void {
  if (st.notAction || st.notResource) return;
  const arn = `arn:aws:s3:::${bucket}`;
  for (const a of st.actions) {
    const known = Object.keys(actions).find((k) => k.toLowerCase() === a.text.toLowerCase()) as IamAction | undefined;
    if (!known) continue;
    const onObject = actions[known].scope === 'object';
    const applies = st.resources.some((r) => (onObject ? r.text.startsWith(`${arn}/`) || r.text === `${arn}*` : r.re.test(arn)));
    if (!applies) throw malformed('Action does not apply to any resource(s) in statement');
  }
}

function parseStatement(raw: unknown, bucket: string): Statement {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw malformed('Statement must be an object');
  const s = raw as Record<string, unknown>;
  for (const k of Object.keys(s)) if (!statementFields.has(k)) throw malformed(`Unknown field ${k}`);
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw malformed(`Invalid effect: ${typeof s.Effect === 'string' ? s.Effect : JSON.stringify(s.Effect ?? null)}`);
  if (s.Sid !== undefined && (typeof s.Sid !== 'string' || !/^[A-Za-z0-9 _-]*$/.test(s.Sid))) throw malformed('Statement IDs (SID) must be alpha-numeric');
  if ((s.Principal === undefined) === (s.NotPrincipal === undefined)) {
    throw malformed(s.Principal === undefined ? 'Missing required field Principal' : 'Statement can have Principal or NotPrincipal, not both');
  }
  if ((s.Action === undefined) === (s.NotAction === undefined)) {
    throw malformed(s.Action === undefined ? 'Missing required field Action' : 'Statement can have Action or NotAction, not both');
  }
  if ((s.Resource === undefined) === (s.NotResource === undefined)) {
    throw malformed(s.Resource === undefined ? 'Missing required field Resource' : 'Statement can have Resource or NotResource, not both');
  }
  const st: Statement = {
    sid: s.Sid as string | undefined,
    effect: s.Effect,
    principals: parsePrincipal(s.Principal ?? s.NotPrincipal),
    notPrincipal: s.NotPrincipal !== undefined,
    actions: parseActions(s.Action ?? s.NotAction),
    notAction: s.NotAction !== undefined,
    resources: parseResources(s.Resource ?? s.NotResource, bucket),
    notResource: s.NotResource !== undefined,
    conditions: s.Condition === undefined ? [] : parseConditions(s.Condition),
  };
  checkActionsApply(st, bucket);
  return st;
}

/** Parses and checks a policy document for `bucket` (JSON.parse: the document is small and bounded). */
export function parsePolicy(text: string, bucket: string): BucketPolicy {
  if (Buffer.byteLength(text) > maxPolicyBytes) throw malformed('Policies must be less than 20 KB');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new S3Error('MalformedPolicy');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new S3Error('MalformedPolicy');
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) if (k !== 'Version' && k !== 'Id' && k !== 'Statement') throw malformed(`Unknown field ${k}`);
  if (d.Version !== undefined && d.Version !== '2012-10-17' && d.Version !== '2008-10-17') throw malformed('Policy has an invalid version');
  if (d.Statement === undefined) throw malformed('Missing required field Statement');
  const raw = Array.isArray(d.Statement) ? d.Statement : [d.Statement];
  if (raw.length === 0) throw malformed('Could not parse the policy: Statement is empty!');
  const statements = raw.map((s) => parseStatement(s, bucket));
  const sids = statements.map((s) => s.sid).filter((s) => s !== undefined);
  if (new Set(sids).size !== sids.length) throw malformed('Statement IDs (SID) in a single policy must be unique');
  return { statements };
}

/** Checks that every principal a policy names exists: MalformedPolicy `Invalid principal in policy`. */
export async function checkPrincipals(policy: BucketPolicy, identity: IdentityProvider): Promise<void> {
  for (const st of policy.statements) {
    for (const p of st.principals) {
      if (p.kind === 'account' && !(await identity.accountExists(p.account))) throw malformed('Invalid principal in policy');
      if (p.kind === 'user' && (await identity.user(p.name))?.account !== p.account) throw malformed('Invalid principal in policy');
    }
  }
}

function principalMatches(m: PrincipalMatcher, p: Principal | undefined): boolean {
  switch (m.kind) {
    case 'any':
      return true;
    case 'account':
      return p !== undefined && p.account === m.account;
    case 'user':
      return p !== undefined && p.account === m.account && p.user === m.name;
    default:
      return false;
  }
}

/** Literal text before the first wildcard. */
function literalHead(pattern: string): string {
  const i = pattern.search(/[*?]/);
  return i < 0 ? pattern : pattern.slice(0, i);
}

/** Whether `pattern` matches every string starting with `prefix`. */
function coversAll(pattern: string, prefix: string): boolean {
  const head = literalHead(pattern);
  return pattern === `${head}*` && prefix.startsWith(head);
}

/** Whether `pattern` may match some string starting with `prefix` (conservative: yes when unsure). */
function mayMatch(pattern: string, prefix: string): boolean {
  const head = literalHead(pattern);
  return head.startsWith(prefix) || prefix.startsWith(head);
}

function resourceMatches(st: Statement, r: PolicyRequest): boolean {
  if (r.anyKeyPrefix === undefined) {
    const hit = st.resources.some((p) => p.re.test(r.resource));
    return st.notResource ? !hit : hit;
  }
  // Key unknown: a pre-check that the caller may act on some key (each key is checked again later), so
  // Allow counts when it may match a key, Deny only when it matches them all.
  const prefix = r.anyKeyPrefix;
  if (st.effect === 'Deny') {
    return st.notResource ? !st.resources.some((p) => mayMatch(p.text, prefix)) : st.resources.some((p) => coversAll(p.text, prefix));
  }
  return st.notResource ? !st.resources.some((p) => coversAll(p.text, prefix)) : st.resources.some((p) => mayMatch(p.text, prefix));
}

function statementApplies(st: Statement, r: PolicyRequest): boolean {
  const who = st.principals.some((m) => principalMatches(m, r.principal));
  if (st.notPrincipal ? who : !who) return false;
  const act = st.actions.some((p) => p.re.test(r.action));
  if (st.notAction ? act : !act) return false;
  return resourceMatches(st, r) && conditionsHold(st.conditions, r.keys);
}

/**
 * The policy's verdict on a request: `deny` when a Deny statement applies (it always wins), `allow` when an
 * Allow statement applies, `none` otherwise.
 */
export function evaluatePolicy(policy: BucketPolicy, r: PolicyRequest): 'allow' | 'deny' | 'none' {
  let allowed = false;
  for (const st of policy.statements) {
    if (!statementApplies(st, r)) continue;
    if (st.effect === 'Deny') return 'deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'none';
}

/** Condition keys that pin a statement to known callers, so that a wildcard principal is not public. */
const fixingKeys = new Set(['aws:sourceip', 'aws:principalaccount', 'aws:principalarn', 'aws:sourceaccount', 'aws:sourcearn', 'aws:sourcevpc', 'aws:sourcevpce', 'aws:principalorgid', 'aws:userid', 'aws:username']);
const positiveOperators = new Set(['StringEquals', 'StringEqualsIgnoreCase', 'StringLike', 'IpAddress']);

/**
 * Whether a policy is public in S3's sense: some Allow statement grants to everyone (`*`, or NotPrincipal)
 * without a condition that pins the callers to fixed values (a source IP range other than everything, an
 * account, a user…). https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status
 */
export function isPublicPolicy(policy: BucketPolicy): boolean {
  return policy.statements.some((st) => {
    if (st.effect !== 'Allow') return false;
    if (!st.notPrincipal && !st.principals.some((p) => p.kind === 'any')) return false;
    const pinned = st.conditions.some(
      (c) =>
        fixingKeys.has(c.key) &&
        positiveOperators.has(c.operator) &&
        !c.ifExists &&
        c.values.every((v) => !v.includes('*') && v !== '0.0.0.0/0' && v !== '::/0'),
    );
    return !pinned;
  });
}

/** What a stored policy that no longer parses means: deny everything (its owner can still replace it). */
const denyAll: BucketPolicy = {
  statements: [
    {
      effect: 'Deny',
      principals: [{ kind: 'any' }],
      notPrincipal: false,
      actions: [{ text: '*', re: /^/ }],
      notAction: false,
      resources: [{ text: '*', re: /^/ }],
      notResource: false,
      conditions: [],
    },
  ],
};

const parsedCache = new Map<string, BucketPolicy>();

/**
 * The parsed form of a stored policy (cached by its text); undefined when there is none. A stored document
 * that does not parse any more fails closed, as a policy denying everything.
 */
export function storedPolicy(text: unknown, bucket: string): BucketPolicy | undefined {
  if (typeof text !== 'string') return undefined;
  const cacheKey = `${bucket}\n${text}`;
  let p = parsedCache.get(cacheKey);
  if (p === undefined) {
    try {
      p = parsePolicy(text, bucket);
    } catch {
      p = denyAll;
    }
    if (parsedCache.size > 1000) parsedCache.clear();
    parsedCache.set(cacheKey, p);
  }
  return p;
}
