/**
 * A hook's manifest: what it is for and what it promises, given at deploy time beside the module.
 *
 *   { "abi": 1, "triggers": ["put", "get", "event"], "mode": "transform" | "validate",
 *     "blockSize": 65536?, "memoryMiB": 16?, "stepTimeoutMs": 500?, "description": "…"? }
 *
 * `mode` (put): a transform hook's output is what is stored (the ETag is the output's MD5); a validate hook's
 * output is ignored and the bytes are stored as sent — it may reject the upload and set metadata.
 * `blockSize` (get): the hook promises that its output has the length of its input and that output block i
 * depends only on input block i, so a Range GET reads only the blocks covering the range.
 */
import { ArcaError } from '../../common/errors.js';

export type Trigger = 'put' | 'get' | 'event';

export interface HookManifest {
  abi: 1;
  triggers: Trigger[];
  mode: 'transform' | 'validate';
  blockSize?: number;
  memoryMiB?: number;
  stepTimeoutMs?: number;
  description?: string;
}

const triggers = new Set<Trigger>(['put', 'get', 'event']);

/** Hook names: like bucket names, 1–63 lower-case letters, digits and `-`. */
export function checkHookName(name: string): void {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) throw new ArcaError('BadRequest', `hook name "${name}" must be 1-63 lower-case letters, digits and -`);
}

/** Validates a manifest given as JSON. */
export function parseManifest(raw: unknown): HookManifest {
  const bad = (why: string): never => {
    throw new ArcaError('BadRequest', `manifest: ${why}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('must be a JSON object');
  const m = raw as Record<string, unknown>;
  if (m.abi !== undefined && m.abi !== 1) bad('abi must be 1');
  const t = m.triggers ?? ['put', 'get', 'event'];
  if (!Array.isArray(t) || t.length === 0 || t.some((x) => !triggers.has(x as Trigger))) bad('triggers must be a non-empty list of put, get, event');
  const mode = m.mode ?? 'transform';
  if (mode !== 'transform' && mode !== 'validate') bad('mode must be transform or validate');
  const out: HookManifest = { abi: 1, triggers: [...new Set(t as Trigger[])], mode: mode as HookManifest['mode'] };
  const int = (field: 'blockSize' | 'memoryMiB' | 'stepTimeoutMs', max: number) => {
    const v = m[field];
    if (v === undefined) return;
    if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > max) bad(`${field} must be an integer from 1 to ${max}`);
    out[field] = v as number;
  };
  int('blockSize', 64 * 1024 * 1024);
  int('memoryMiB', 4096);
  int('stepTimeoutMs', 600_000);
  const d = m.description;
  if (d !== undefined) {
    if (typeof d !== 'string' || d.length > 1024) return bad('description must be a string of at most 1024 characters');
    out.description = d;
  }
  return out;
}
