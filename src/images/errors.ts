/**
 * The one catalogue of Glance errors, the GlanceError that carries them, and the one place that renders them.
 * Handlers throw `new GlanceError('NotFound', 'No image found with ID …')`; the app catches anything, passes
 * it through {@link toGlanceError} and writes {@link renderGlanceError}.
 *
 * Glance answers errors through webob, which picks the body by the Accept header: HTML for `*\/*` (what
 * glanceclient gets, and prints with the tags stripped), JSON `{"message", "code", "title"}` when JSON is
 * asked for (openstacksdk). A missing or bad token is answered by keystonemiddleware instead, always as JSON
 * `{"error": {"code", "title", "message"}}` — the shape glanceclient's `from_response` expects.
 */
import { ArcaError } from '../common/errors.js';

/** Every error the image API answers with: its HTTP status and webob's title for it. */
export const GLANCE_ERRORS = {
  BadRequest: { status: 400, title: 'Bad Request' },
  Unauthorized: { status: 401, title: 'Unauthorized' },
  Forbidden: { status: 403, title: 'Forbidden' },
  NotFound: { status: 404, title: 'Not Found' },
  MethodNotAllowed: { status: 405, title: 'Method Not Allowed' },
  Conflict: { status: 409, title: 'Conflict' },
  Gone: { status: 410, title: 'Gone' },
  RequestEntityTooLarge: { status: 413, title: 'Request Entity Too Large' },
  UnsupportedMediaType: { status: 415, title: 'Unsupported Media Type' },
  RangeNotSatisfiable: { status: 416, title: 'Requested Range Not Satisfiable' },
  InternalServerError: { status: 500, title: 'Internal Server Error' },
  ServiceUnavailable: { status: 503, title: 'Service Unavailable' },
} as const;

export type GlanceErrorCode = keyof typeof GLANCE_ERRORS;

/** An image API error: a catalogue code, the message shown to the user, and extra response headers. */
export class GlanceError extends Error {
  readonly status: number;
  readonly title: string;

  constructor(
    readonly code: GlanceErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'GlanceError';
    this.status = GLANCE_ERRORS[code].status;
    this.title = GLANCE_ERRORS[code].title;
  }
}

/** Domain errors mapped to the image API; anything unknown is an internal error whose message stays private. */
export function toGlanceError(err: unknown): GlanceError {
  if (err instanceof GlanceError) return err;
  if (err instanceof ArcaError) {
    switch (err.code) {
      case 'NotFound':
        return new GlanceError('NotFound', err.message);
      case 'Conflict':
        return new GlanceError('Conflict', err.message);
      case 'BadRequest':
      case 'BadDigest':
        return new GlanceError('BadRequest', err.message);
      case 'RangeNotSatisfiable':
        return new GlanceError('RangeNotSatisfiable', 'Requested range not satisfiable', { 'content-range': `bytes */${Number(err.detail.size)}` });
      case 'InsufficientReplicas':
      case 'Timeout':
        return new GlanceError('ServiceUnavailable', 'The storage cluster cannot serve this request right now; try again.');
      case 'ClientAborted':
        return new GlanceError('BadRequest', 'The request body ended early.');
      default:
        break;
    }
  }
  return new GlanceError('InternalServerError', 'The server has either erred or is incapable of performing the requested operation.');
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** True when the Accept header asks for JSON rather than HTML (webob's choice). */
function wantsJson(accept: string | undefined): boolean {
  if (!accept) return false;
  const a = accept.toLowerCase();
  return a.includes('json') && !a.includes('text/html');
}

/** The body and content type of an error response, as Glance (webob or keystonemiddleware) writes it. */
export function renderGlanceError(e: GlanceError, accept: string | undefined): { contentType: string; body: string } {
  const status = `${e.status} ${e.title}`;
  if (e.code === 'Unauthorized') {
    return { contentType: 'application/json', body: JSON.stringify({ error: { code: e.status, title: e.title, message: e.message } }) };
  }
  if (wantsJson(accept)) {
    return { contentType: 'application/json; charset=UTF-8', body: JSON.stringify({ message: e.message, code: status, title: e.title }) };
  }
  const body = `<html>\n <head>\n  <title>${status}</title>\n </head>\n <body>\n  <h1>${status}</h1>\n  ${escapeHtml(e.message)}<br /><br />\n\n\n\n </body>\n</html>`;
  return { contentType: 'text/html; charset=UTF-8', body };
}
