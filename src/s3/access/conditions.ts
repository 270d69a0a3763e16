/**
 * The `Condition` block of bucket-policy statements: the operators Arca evaluates, parsed and checked
 * once when a policy is stored, then evaluated per request against the request's condition keys.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
 *
 * Supported: String{Equals,NotEquals,EqualsIgnoreCase,NotEqualsIgnoreCase,Like,NotLike}, Bool,
 * IpAddress/NotIpAddress, Numeric{Equals,NotEquals,LessThan,LessThanEquals,GreaterThan,GreaterThanEquals},
 * Null, each (but Null) with an `IfExists` suffix. Anything else (Date*, Arn*, Binary*, ForAnyValue:/ForAllValues:
 * set operators) is refused when the policy is stored rather than evaluated wrongly.
 */
import { BlockList, isIP } from 'node:net';
import { S3Error } from '../errors.js';

/** Condition keys of a request, by lower-case name; an absent key is undefined. */
export type ConditionKeys = Record<string, string | undefined>;

type Test = (value: string, expected: string) => boolean;

interface OperatorSpec {
  /** Negated operators match when no value matches, and when the key is absent. */
  negated: boolean;
  test: Test;
  check?: (v: string) => boolean;
}

/** `*` and `?` wildcards, matched against the whole string. */
export function globToRegExp(pattern: string, flags = ''): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, `s${flags}`);
}

const globCache = new Map<string, RegExp>();
function like(value: string, pattern: string): boolean {
  let re = globCache.get(pattern);
  if (!re) {
    re = globToRegExp(pattern);
    if (globCache.size > 10_000) globCache.clear();
    globCache.set(pattern, re);
  }
  return re.test(value);
}

function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

function inCidr(value: string, cidr: string): boolean {
  const ip = normalizeIp(value);
  const [addr, bits] = cidr.split('/');
  const family = isIP(addr);
  if (family === 0 || isIP(ip) === 0) return false;
  const list = new BlockList();
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (bits === undefined) list.addAddress(addr, type);
  else list.addSubnet(addr, Number(bits), type);
  return list.check(ip, isIP(ip) === 4 ? 'ipv4' : 'ipv6');
}

function validCidr(v: string): boolean {
  const [addr, bits, extra] = v.split('/');
  const family = isIP(addr);
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d+$/.test(bits) && n <= (family === 4 ? 32 : 128);
}

const numeric = (cmp: (a: number, b: number) => boolean): Test => (v, e) => {
  const a = Number(v);
  const b = Number(e);
  return !Number.isNaN(a) && !Number.isNaN(b) && cmp(a, b);
};
const isNumber = (v: string) => v.trim() !== '' && !Number.isNaN(Number(v));

const operators: Record<string, OperatorSpec> = {
  StringEquals: { negated: false, test: (v, e) => v === e },
  StringNotEquals: { negated: true, test: (v, e) => v === e },
  StringEqualsIgnoreCase: { negated: false, test: (v, e) => v.toLowerCase() === e.toLowerCase() },
  StringNotEqualsIgnoreCase: { negated: true, test: (v, e) => v.toLowerCase() === e.toLowerCase() },
  StringLike: { negated: false, test: like },
  StringNotLike: { negated: true, test: like },
  Bool: { negated: false, test: (v, e) => v.toLowerCase() === e.toLowerCase(), check: (v) => /^(true|false)$/i.test(v) },
  IpAddress: { negated: false, test: inCidr, check: validCidr },
  NotIpAddress: { negated: true, test: inCidr, check: validCidr },
  NumericEquals: { negated: false, test: numeric((a, b) => a === b), check: isNumber },
  NumericNotEquals: { negated: true, test: numeric((a, b) => a === b), check: isNumber },
  NumericLessThan: { negated: false, test: numeric((a, b) => a < b), check: isNumber },
  NumericLessThanEquals: { negated: false, test: numeric((a, b) => a <= b), check: isNumber },
  NumericGreaterThan: { negated: false, test: numeric((a, b) => a > b), check: isNumber },
  NumericGreaterThanEquals: { negated: false, test: numeric((a, b) => a >= b), check: isNumber },
};

/** One parsed `"Operator": { "key": values }` entry. */
export interface Condition {
  operator: string;
  /** Lower-case condition key. */
  key: string;
  values: string[];
  ifExists: boolean;
}

function malformed(message: string): S3Error {
  return new S3Error('MalformedPolicy', { message });
}

/** Parses and checks a statement's `Condition` element. */
export function parseConditions(block: unknown): Condition[] {
  if (typeof block !== 'object' || block === null || Array.isArray(block)) throw malformed('Condition must be an object');
  const out: Condition[] = [];
  for (const [rawOp, keys] of Object.entries(block)) {
    const ifExists = rawOp.endsWith('IfExists') && rawOp !== 'IfExists';
    const op = ifExists ? rawOp.slice(0, -'IfExists'.length) : rawOp;
    if (op !== 'Null' && !operators[op]) throw malformed(`Condition operator ${rawOp} is not supported`);
    if (op === 'Null' && ifExists) throw malformed(`Condition operator ${rawOp} is not supported`);
    if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) throw malformed(`Condition ${rawOp} must map keys to values`);
    for (const [key, raw] of Object.entries(keys as Record<string, unknown>)) {
      const list = Array.isArray(raw) ? raw : [raw];
      if (list.length === 0) throw malformed(`Condition ${rawOp} ${key} has no values`);
      const values = list.map((v) => {
        if (typeof v === 'string') return v;
        if (typeof v === 'boolean' || typeof v === 'number') return String(v);
        throw malformed(`Condition ${rawOp} ${key}: values must be strings`);
      });
      const check = op === 'Null' ? (v: string) => /^(true|false)$/i.test(v) : operators[op].check;
      for (const v of values) if (check && !check(v)) throw malformed(`Invalid value ${JSON.stringify(v)} for condition ${rawOp}`);
      out.push({ operator: op, key: key.toLowerCase(), values, ifExists });
    }
  }
  return out;
}

/** Whether every condition holds for a request's keys. */
export function conditionsHold(conditions: readonly Condition[], keys: ConditionKeys): boolean {
  for (const c of conditions) {
    const value = keys[c.key];
    if (c.operator === 'Null') {
      // "Null": true means "the key is absent".
      if (c.values.some((v) => (v.toLowerCase() === 'true') !== (value === undefined))) return false;
      continue;
    }
    const spec = operators[c.operator];
    if (value === undefined) {
      if (c.ifExists || spec.negated) continue;
      return false;
    }
    const any = c.values.some((e) => spec.test(value, e));
    if (spec.negated ? any : !any) return false;
  }
  return true;
}
