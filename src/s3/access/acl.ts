/**
 * Access control lists: the model (an owner and grants to accounts or groups), canned ACLs, the
 * `x-amz-grant-*` request headers, the AccessControlPolicy XML both ways, and whether a grant applies to a
 * caller. Canonical user IDs are Arca account names.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html
 */
import type { IdentityProvider, Principal } from '../../common/identity.js';
import { S3Error } from '../errors.js';
import { escapeXml, parseXml, S3_XMLNS, type XmlElement } from '../xml.js';
import type { AclPermission } from './actions.js';

export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
export const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';
const groups = new Set([ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY]);

export type Grantee = { type: 'CanonicalUser'; id: string } | { type: 'Group'; uri: string };

export interface Grant {
  grantee: Grantee;
  permission: AclPermission;
}

/** An ACL as stored with a bucket (`meta.acl`) or an object. */
export interface Acl {
  /** The owning account. */
  owner: string;
  grants: Grant[];
}

const permissions = new Set<AclPermission>(['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP', 'FULL_CONTROL']);
const maxGrants = 100;

/** Canned ACL names S3 accepts in `x-amz-acl`. */
export const cannedAclNames = [
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'aws-exec-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
  'log-delivery-write',
] as const;
export type CannedAcl = (typeof cannedAclNames)[number];

const user = (id: string, permission: AclPermission): Grant => ({ grantee: { type: 'CanonicalUser', id }, permission });
const group = (uri: string, permission: AclPermission): Grant => ({ grantee: { type: 'Group', uri }, permission });

/** The default ACL: the owner has full control. */
export function privateAcl(owner: string): Acl {
  return { owner, grants: [user(owner, 'FULL_CONTROL')] };
}

/**
 * A canned ACL for a resource owned by `owner` in a bucket owned by `bucketOwner` (which matters only for the
 * bucket-owner-* ACLs on objects). Unknown names are InvalidArgument.
 */
export function cannedAcl(name: string, owner: string, bucketOwner: string): Acl {
  const acl = privateAcl(owner);
  switch (name as CannedAcl) {
    case 'private':
    case 'aws-exec-read':
      break;
    case 'public-read':
      acl.grants.push(group(ALL_USERS, 'READ'));
      break;
    case 'public-read-write':
      acl.grants.push(group(ALL_USERS, 'READ'), group(ALL_USERS, 'WRITE'));
      break;
    case 'authenticated-read':
      acl.grants.push(group(AUTHENTICATED_USERS, 'READ'));
      break;
    case 'bucket-owner-read':
      if (bucketOwner !== owner) acl.grants.push(user(bucketOwner, 'READ'));
      break;
    case 'bucket-owner-full-control':
      if (bucketOwner !== owner) acl.grants.push(user(bucketOwner, 'FULL_CONTROL'));
      break;
    case 'log-delivery-write':
      acl.grants.push(group(LOG_DELIVERY, 'WRITE'), group(LOG_DELIVERY, 'READ_ACP'));
      break;
    default:
      throw new S3Error('InvalidArgument', { message: 'Invalid canned ACL', extra: { ArgumentName: 'x-amz-acl', ArgumentValue: name } });
  }
  return acl;
}

const grantHeaders: Array<[string, AclPermission]> = [
  ['x-amz-grant-read', 'READ'],
  ['x-amz-grant-write', 'WRITE'],
  ['x-amz-grant-read-acp', 'READ_ACP'],
  ['x-amz-grant-write-acp', 'WRITE_ACP'],
  ['x-amz-grant-full-control', 'FULL_CONTROL'],
];

function grantee(kind: string, value: string, where: string): Grantee {
  switch (kind.toLowerCase()) {
    case 'id':
      if (value === '') break;
      return { type: 'CanonicalUser', id: value };
    case 'uri':
      if (!groups.has(value)) throw new S3Error('InvalidArgument', { message: 'Invalid group uri', extra: { ArgumentName: 'uri', ArgumentValue: value } });
      return { type: 'Group', uri: value };
    case 'emailaddress':
      throw new S3Error('UnresolvableGrantByEmailAddress', { extra: { EmailAddress: value } });
  }
  throw new S3Error('InvalidArgument', { message: `Invalid grantee in ${where}`, extra: { ArgumentName: where, ArgumentValue: `${kind}=${value}` } });
}

/** Parses one `x-amz-grant-*` value: `id="a", uri="http://…", emailAddress="…"`. */
function parseGrantHeader(name: string, value: string, permission: AclPermission): Grant[] {
  const out: Grant[] = [];
  const re = /\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([^,\s]*))\s*(?:,|$)/y;
  let pos = 0;
  while (pos < value.length) {
    re.lastIndex = pos;
    const m = re.exec(value);
    if (!m || re.lastIndex === pos) {
      throw new S3Error('InvalidArgument', { message: `Invalid ${name} header`, extra: { ArgumentName: name, ArgumentValue: value } });
    }
    out.push({ grantee: grantee(m[1], m[2] ?? m[3] ?? '', name), permission });
    pos = re.lastIndex;
  }
  if (out.length === 0) throw new S3Error('InvalidArgument', { message: `Invalid ${name} header`, extra: { ArgumentName: name, ArgumentValue: value } });
  return out;
}

/**
 * The ACL a request's headers ask for (`x-amz-acl` or `x-amz-grant-*`), or undefined when they ask for none.
 * Both kinds at once is InvalidRequest, as in S3. Grant headers replace the whole ACL: the owner keeps only
 * its implicit READ_ACP/WRITE_ACP unless a header grants it more.
 */
export function aclFromHeaders(headers: Record<string, string | string[] | undefined>, owner: string, bucketOwner: string): Acl | undefined {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(',') : v);
  const canned = one(headers['x-amz-acl']);
  const grants: Grant[] = [];
  for (const [name, permission] of grantHeaders) {
    const v = one(headers[name]);
    if (v !== undefined) grants.push(...parseGrantHeader(name, v, permission));
  }
  if (canned !== undefined && grants.length) {
    throw new S3Error('InvalidRequest', { message: 'Specifying both Canned ACLs and Header Grants is not allowed' });
  }
  if (canned !== undefined) return cannedAcl(canned.trim(), owner, bucketOwner);
  if (grants.length > maxGrants) throw new S3Error('MalformedACLError', { message: `An ACL may have at most ${maxGrants} grants` });
  return grants.length ? { owner, grants } : undefined;
}

function malformedAcl(reason: string): S3Error {
  return new S3Error('MalformedACLError', {
    message: `The XML you provided was not well-formed or did not validate against our published schema: ${reason}`,
  });
}

function parseGrant(el: XmlElement): Grant {
  const g = el.child('Grantee');
  const permission = el.textOf('Permission')?.trim();
  if (!g) throw malformedAcl('a Grant without a Grantee');
  if (!permission || !permissions.has(permission as AclPermission)) throw malformedAcl(`invalid Permission ${JSON.stringify(permission ?? '')}`);
  // The xsi:type attribute names the grantee kind; the element inside (ID, URI, EmailAddress) says the same.
  const id = g.textOf('ID')?.trim();
  const uri = g.textOf('URI')?.trim();
  const email = g.textOf('EmailAddress')?.trim();
  if ([id, uri, email].filter((v) => v !== undefined).length !== 1) throw malformedAcl('a Grantee needs exactly one of ID, URI, EmailAddress');
  if (email !== undefined) throw new S3Error('UnresolvableGrantByEmailAddress', { extra: { EmailAddress: email } });
  if (uri !== undefined) {
    if (!groups.has(uri)) throw new S3Error('InvalidArgument', { message: 'Invalid group uri', extra: { ArgumentName: 'Group/URI', ArgumentValue: uri } });
    return group(uri, permission as AclPermission);
  }
  if (!id) throw malformedAcl('an empty grantee ID');
  return user(id, permission as AclPermission);
}

/**
 * Parses an AccessControlPolicy document for a resource owned by `owner`. Anything malformed is
 * MalformedACLError; an Owner other than the resource's is AccessDenied (an ACL cannot change the owner).
 */
export function parseAclXml(body: Buffer, owner: string): Acl {
  let root: XmlElement;
  try {
    root = parseXml(body, { maxBytes: 64 * 1024 });
  } catch (err) {
    throw err instanceof S3Error && err.code === 'MalformedXML' ? new S3Error('MalformedACLError', { message: err.message }) : err;
  }
  if (root.name !== 'AccessControlPolicy') throw malformedAcl(`the root element must be AccessControlPolicy, not ${root.name}`);
  const ownerId = root.child('Owner')?.textOf('ID')?.trim();
  if (ownerId !== undefined && ownerId !== owner) throw new S3Error('AccessDenied');
  const list = root.child('AccessControlList');
  if (!list) throw malformedAcl('missing AccessControlList');
  const grantEls = list.childrenNamed('Grant');
  if (grantEls.length > maxGrants) throw malformedAcl(`more than ${maxGrants} grants`);
  if (list.children.length !== grantEls.length) throw malformedAcl('AccessControlList may hold only Grant elements');
  return { owner, grants: grantEls.map(parseGrant) };
}

/** Checks that every CanonicalUser grantee is an existing account: InvalidArgument `Invalid id` otherwise. */
export async function checkGrantees(acl: Acl, identity: IdentityProvider): Promise<void> {
  for (const g of acl.grants) {
    if (g.grantee.type !== 'CanonicalUser' || g.grantee.id === acl.owner) continue;
    if (!(await identity.accountExists(g.grantee.id))) {
      throw new S3Error('InvalidArgument', { message: 'Invalid id', extra: { ArgumentName: 'CanonicalUser/ID', ArgumentValue: g.grantee.id } });
    }
  }
}

/** The AccessControlPolicy document of an ACL, as GetBucketAcl and GetObjectAcl answer it. */
export function aclXml(acl: Acl): string {
  const xsi = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';
  const grants = acl.grants
    .map((g) => {
      const who =
        g.grantee.type === 'CanonicalUser'
          ? `<Grantee ${xsi} xsi:type="CanonicalUser"><ID>${escapeXml(g.grantee.id)}</ID><DisplayName>${escapeXml(g.grantee.id)}</DisplayName></Grantee>`
          : `<Grantee ${xsi} xsi:type="Group"><URI>${escapeXml(g.grantee.uri)}</URI></Grantee>`;
      return `<Grant>${who}<Permission>${g.permission}</Permission></Grant>`;
    })
    .join('');
  const owner = escapeXml(acl.owner);
  return `<AccessControlPolicy xmlns="${S3_XMLNS}"><Owner><ID>${owner}</ID><DisplayName>${owner}</DisplayName></Owner><AccessControlList>${grants}</AccessControlList></AccessControlPolicy>`;
}

/** True when the ACL grants anything to everyone or to every authenticated user (S3's "public" ACL). */
export function isPublicAcl(acl: Acl): boolean {
  return acl.grants.some((g) => g.grantee.type === 'Group' && (g.grantee.uri === ALL_USERS || g.grantee.uri === AUTHENTICATED_USERS));
}

/**
 * Whether the ACL gives `principal` (undefined: anonymous) `permission`. FULL_CONTROL implies every
 * permission; the owner always has READ_ACP and WRITE_ACP. With `ignorePublic`, grants to AllUsers and
 * AuthenticatedUsers count for nothing (public access block IgnorePublicAcls).
 */
export function aclAllows(acl: Acl, principal: Principal | undefined, permission: AclPermission, opts: { ignorePublic?: boolean } = {}): boolean {
  if (principal && principal.account === acl.owner && (permission === 'READ_ACP' || permission === 'WRITE_ACP')) return true;
  for (const g of acl.grants) {
    if (g.permission !== permission && g.permission !== 'FULL_CONTROL') continue;
    const who = g.grantee;
    if (who.type === 'CanonicalUser') {
      if (principal && who.id === principal.account) return true;
    } else if (!opts.ignorePublic) {
      if (who.uri === ALL_USERS || (who.uri === AUTHENTICATED_USERS && principal)) return true;
    }
  }
  return false;
}

/** Reads an ACL back from stored metadata (undefined when absent or not an ACL). */
export function storedAcl(v: unknown): Acl | undefined {
  const a = v as Acl | undefined;
  return a && typeof a.owner === 'string' && Array.isArray(a.grants) ? a : undefined;
}
