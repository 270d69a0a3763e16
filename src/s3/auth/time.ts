/** Request times: the formats S3 signatures use and the clock-skew rule. */
import { S3Error } from '../errors.js';

/** AWS's default allowed difference between request and server time. */
export const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** The last text parseAmzDate accepted and its time: the requests of one second all carry the same. */
let lastAmzDate = { text: '', ms: 0 };

/** Parses ISO 8601 basic format `YYYYMMDDTHHMMSSZ` (`x-amz-date`, `X-Amz-Date`); undefined if invalid. */
export function parseAmzDate(s: string): Date | undefined {
  if (s === lastAmzDate.text) return new Date(lastAmzDate.ms);
  const m = AMZ_DATE.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number);
  const t = Date.UTC(y, mo - 1, d, h, mi, se);
  const date = new Date(t);
  // Reject rolled-over fields such as month 13 or 25:00.
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || date.getUTCHours() !== h || date.getUTCMinutes() !== mi) return undefined;
  lastAmzDate = { text: s, ms: t };
  return date;
}

/** Formats a time as `YYYYMMDDTHHMMSSZ`. */
export function formatAmzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** Formats a time as AWS writes it in error bodies: `2013-05-24T00:00:00Z`. */
export function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Parses an HTTP date (`Date` header, RFC 7231 / RFC 850 / asctime) or, failing that, the basic ISO format. */
export function parseHttpDate(s: string): Date | undefined {
  const amz = parseAmzDate(s);
  if (amz) return amz;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/**
 * Throws RequestTimeTooSkewed, with the fields AWS adds, when `requestTime` is more than `maxSkewMs` away
 * from `now`. `requestTimeText` is echoed as the client sent it.
 */
export function checkSkew(requestTime: Date, requestTimeText: string, now: Date, maxSkewMs: number): void {
  if (Math.abs(requestTime.getTime() - now.getTime()) <= maxSkewMs) return;
  throw new S3Error('RequestTimeTooSkewed', {
    extra: {
      RequestTime: requestTimeText,
      ServerTime: isoSeconds(now),
      MaxAllowedSkewMilliseconds: String(maxSkewMs),
    },
  });
}
