/**
 * The one catalogue of S3 error codes, the S3Error that carries them, and the one place that renders them as
 * XML. Handlers throw `new S3Error('NoSuchKey', { extra: { Key } })`; the edge catches anything, passes it
 * through {@link toS3Error} and writes {@link renderErrorXml}.
 *
 * Statuses and default messages follow AWS's list:
 * https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
 */
import { ArcaError } from '../common/errors.js';
import { escapeXml, XML_PROLOG } from './xml.js';

/** One catalogue entry: the HTTP status and AWS's default message for a code. */
export interface S3ErrorSpec {
  readonly status: number;
  readonly message: string;
}

const XML_SCHEMA_MESSAGE = 'The XML you provided was not well-formed or did not validate against our published schema';

/**
 * Every S3 error code Arca may answer with. Keep entries alphabetical; messages are AWS's own wording so that
 * clients and tests matching on them behave as against AWS.
 */
export const S3_ERRORS = {
  AccessControlListNotSupported: { status: 400, message: 'The bucket does not allow ACLs' },
  AccessDenied: { status: 403, message: 'Access Denied' },
  AccessForbidden: { status: 403, message: 'CORSResponse: This CORS request is not allowed.' },
  AccountProblem: {
    status: 403,
    message:
      'There is a problem with your AWS account that prevents the operation from completing successfully. Please contact AWS Support for further assistance.',
  },
  AllAccessDisabled: { status: 403, message: 'All access to this Amazon S3 resource has been disabled.' },
  AuthorizationHeaderMalformed: { status: 400, message: 'The authorization header you provided is invalid.' },
  AuthorizationQueryParametersError: {
    status: 400,
    message:
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
  },
  BadDigest: {
    status: 400,
    message: 'The Content-MD5 or checksum value that you specified did not match what the server received.',
  },
  BadRequest: { status: 400, message: 'An error occurred when parsing the HTTP request.' },
  BucketAlreadyExists: {
    status: 409,
    message:
      'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
  },
  BucketAlreadyOwnedByYou: {
    status: 409,
    message: 'Your previous request to create the named bucket succeeded and you already own it.',
  },
  BucketNotEmpty: { status: 409, message: 'The bucket you tried to delete is not empty' },
  ConditionalRequestConflict: {
    status: 409,
    message: 'A conflicting conditional operation is currently in progress against this resource. Please try again.',
  },
  CredentialsNotSupported: { status: 400, message: 'This request does not support credentials.' },
  EntityTooLarge: { status: 400, message: 'Your proposed upload exceeds the maximum allowed object size.' },
  EntityTooSmall: { status: 400, message: 'Your proposed upload is smaller than the minimum allowed object size.' },
  ExpiredToken: { status: 400, message: 'The provided token has expired.' },
  HookFailed: { status: 500, message: 'A compute hook failed while processing the request.' },
  HookRejected: { status: 400, message: 'A compute hook rejected the request.' },
  IllegalLocationConstraintException: {
    status: 400,
    message:
      'The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.',
  },
  IllegalVersioningConfigurationException: {
    status: 400,
    message: 'The versioning configuration specified in the request is invalid.',
  },
  IncompleteBody: {
    status: 400,
    message: 'You did not provide the number of bytes specified by the Content-Length HTTP header',
  },
  InlineDataTooLarge: { status: 400, message: 'Inline data exceeds the maximum allowed size.' },
  InternalError: { status: 500, message: 'We encountered an internal error. Please try again.' },
  InvalidAccessKeyId: { status: 403, message: 'The AWS Access Key Id you provided does not exist in our records.' },
  InvalidArgument: { status: 400, message: 'Invalid Argument' },
  InvalidBucketAclWithObjectOwnership: {
    status: 400,
    message: "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
  },
  InvalidBucketName: { status: 400, message: 'The specified bucket is not valid.' },
  InvalidBucketState: { status: 409, message: 'The request is not valid with the current state of the bucket.' },
  InvalidChunkSizeError: { status: 400, message: 'Only the last chunk is allowed to have a size less than 8192 bytes' },
  InvalidDigest: { status: 400, message: 'The Content-MD5 you specified was invalid.' },
  InvalidEncryptionAlgorithmError: {
    status: 400,
    message: 'The encryption request you specified is not valid. The valid value is AES256.',
  },
  InvalidLocationConstraint: { status: 400, message: 'The specified location constraint is not valid.' },
  InvalidObjectState: { status: 403, message: 'The operation is not valid for the object\'s storage class' },
  InvalidPart: {
    status: 400,
    message:
      "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
  },
  InvalidPartNumber: { status: 416, message: 'The requested partnumber is not satisfiable' },
  InvalidPartOrder: { status: 400, message: 'The list of parts was not in ascending order. Parts must be ordered by part number.' },
  InvalidPolicyDocument: {
    status: 400,
    message: 'The content of the form does not meet the conditions specified in the policy document.',
  },
  InvalidRange: { status: 416, message: 'The requested range is not satisfiable' },
  InvalidRequest: { status: 400, message: 'Invalid Request' },
  InvalidSecurity: { status: 403, message: 'The provided security credentials are not valid.' },
  InvalidStorageClass: { status: 400, message: 'The storage class you specified is not valid' },
  InvalidTag: { status: 400, message: 'The tag provided was not a valid tag.' },
  InvalidToken: { status: 400, message: 'The provided token is malformed or otherwise invalid.' },
  InvalidURI: { status: 400, message: "Couldn't parse the specified URI." },
  KeyTooLongError: { status: 400, message: 'Your key is too long' },
  MalformedACLError: { status: 400, message: XML_SCHEMA_MESSAGE },
  MalformedPOSTRequest: { status: 400, message: 'The body of your POST request is not well-formed multipart/form-data.' },
  MalformedPolicy: { status: 400, message: 'Policies must be valid JSON and the first byte must be \'{\'' },
  MalformedTrailerError: {
    status: 400,
    message: 'The request contained trailing data that was not well-formed or did not conform to our published schema.',
  },
  MalformedXML: { status: 400, message: XML_SCHEMA_MESSAGE },
  MaxMessageLengthExceeded: { status: 400, message: 'Your request was too big.' },
  MaxPostPreDataLengthExceededError: { status: 400, message: 'Your POST request fields preceding the upload file were too large.' },
  MetadataTooLarge: { status: 400, message: 'Your metadata headers exceed the maximum allowed metadata size.' },
  MethodNotAllowed: { status: 405, message: 'The specified method is not allowed against this resource.' },
  MissingContentLength: { status: 411, message: 'You must provide the Content-Length HTTP header.' },
  MissingRequestBodyError: { status: 400, message: 'Request Body is empty' },
  MissingSecurityHeader: { status: 400, message: 'Your request is missing a required header.' },
  NoSuchBucket: { status: 404, message: 'The specified bucket does not exist' },
  NoSuchBucketPolicy: { status: 404, message: 'The bucket policy does not exist' },
  NoSuchCORSConfiguration: { status: 404, message: 'The CORS configuration does not exist' },
  NoSuchKey: { status: 404, message: 'The specified key does not exist.' },
  NoSuchLifecycleConfiguration: { status: 404, message: 'The lifecycle configuration does not exist' },
  NoSuchObjectLockConfiguration: { status: 404, message: 'The specified object does not have a ObjectLock configuration' },
  NoSuchPublicAccessBlockConfiguration: {
    status: 404,
    message: 'The public access block configuration was not found',
  },
  NoSuchTagSet: { status: 404, message: 'The TagSet does not exist' },
  NoSuchUpload: {
    status: 404,
    message:
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
  },
  NoSuchVersion: { status: 404, message: 'The specified version does not exist.' },
  NoSuchWebsiteConfiguration: { status: 404, message: 'The specified bucket does not have a website configuration' },
  NotImplemented: { status: 501, message: 'A header you provided implies functionality that is not implemented' },
  NotModified: { status: 304, message: 'Not Modified' },
  ObjectLockConfigurationNotFoundError: {
    status: 404,
    message: 'Object Lock configuration does not exist for this bucket',
  },
  OperationAborted: {
    status: 409,
    message: 'A conflicting conditional operation is currently in progress against this resource. Please try again.',
  },
  OwnershipControlsNotFoundError: { status: 404, message: 'The bucket ownership controls were not found' },
  PreconditionFailed: { status: 412, message: 'At least one of the pre-conditions you specified did not hold' },
  ReplicationConfigurationNotFoundError: { status: 404, message: 'The replication configuration was not found' },
  RequestHeaderSectionTooLarge: { status: 400, message: 'Your request header section exceeds the maximum allowed size.' },
  RequestIsNotMultiPartContent: {
    status: 400,
    message: 'Bucket POST must be of the enclosure-type multipart/form-data',
  },
  RequestTimeTooSkewed: {
    status: 403,
    message: "The difference between the request time and the server's time is too large.",
  },
  RequestTimeout: {
    status: 400,
    message: 'Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.',
  },
  ServerSideEncryptionConfigurationNotFoundError: {
    status: 404,
    message: 'The server side encryption configuration was not found',
  },
  ServiceUnavailable: { status: 503, message: 'Please reduce your request rate.' },
  SignatureDoesNotMatch: {
    status: 403,
    message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  },
  SlowDown: { status: 503, message: 'Please reduce your request rate.' },
  TooManyBuckets: { status: 400, message: 'You have attempted to create more buckets than allowed' },
  UnexpectedContent: { status: 400, message: 'This request does not support content' },
  UnresolvableGrantByEmailAddress: {
    status: 400,
    message: 'The email address you provided does not match any account on record.',
  },
  XAmzContentSHA256Mismatch: {
    status: 400,
    message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
  },
} as const satisfies Record<string, S3ErrorSpec>;

/** A code in the catalogue; an unknown code does not compile. */
export type S3ErrorCode = keyof typeof S3_ERRORS;

/** Options for {@link S3Error}. */
export interface S3ErrorOptions {
  /** Replaces the catalogue's default message (AWS often words a code more precisely per case). */
  message?: string;
  /**
   * Extra elements rendered inside `<Error>` after `<Message>`, in insertion order: e.g. `BucketName`, `Key`,
   * `StringToSign`, `RequestTime`, `ProposedSize`, `ArgumentName`. Names must be valid XML names.
   */
  extra?: Record<string, string>;
  /** Response headers the edge should add (e.g. `x-amz-bucket-region`). */
  headers?: Record<string, string>;
  /** The underlying error, kept for logs; never rendered. */
  cause?: unknown;
}

/** An error answered to an S3 client: a catalogue code, its status, and extra XML fields. */
export class S3Error extends Error {
  readonly code: S3ErrorCode;
  readonly status: number;
  readonly extra: Record<string, string>;
  readonly headers: Record<string, string>;

  constructor(code: S3ErrorCode, opts: S3ErrorOptions = {}) {
    super(opts.message ?? S3_ERRORS[code].message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'S3Error';
    this.code = code;
    this.status = S3_ERRORS[code].status;
    this.extra = opts.extra ?? {};
    this.headers = opts.headers ?? {};
  }
}

/** Where an error happened and which request it answers, for {@link renderErrorXml}. */
export interface ErrorRenderContext {
  /** The bucket or object path the request addressed, e.g. `/bucket/key`. */
  resource: string;
  requestId: string;
  hostId?: string;
}

/**
 * The error body AWS sends: prolog, then
 * `<Error><Code/><Message/>…extra…<Resource/><RequestId/><HostId/></Error>`.
 * HEAD responses and 304s carry no body; the caller decides that.
 */
export function renderErrorXml(err: S3Error, ctx: ErrorRenderContext): string {
  let extra = '';
  for (const [name, value] of Object.entries(err.extra)) extra += `<${name}>${escapeXml(value)}</${name}>`;
  const hostId = ctx.hostId === undefined ? '' : `<HostId>${escapeXml(ctx.hostId)}</HostId>`;
  return (
    `${XML_PROLOG}<Error><Code>${err.code}</Code><Message>${escapeXml(err.message)}</Message>${extra}` +
    `<Resource>${escapeXml(ctx.resource)}</Resource><RequestId>${escapeXml(ctx.requestId)}</RequestId>${hostId}</Error>`
  );
}

/**
 * Maps anything thrown inside a request to the S3Error to answer with.
 *
 * - an S3Error passes through;
 * - ArcaError codes: `BadDigest` → BadDigest, `PreconditionFailed` → PreconditionFailed,
 *   `InsufficientReplicas` → ServiceUnavailable (503, clients retry), `ClientAborted` → IncompleteBody (the
 *   body ended early), `Timeout` → RequestTimeout when `detail.side === 'client'` (the client stopped sending,
 *   AWS's meaning of RequestTimeout) and ServiceUnavailable otherwise (a backend was too slow: retryable),
 *   `Conflict` → OperationAborted, `HookRejected`/`HookFailed` → HookRejected (400)/HookFailed (500) with the
 *   hook's message, `Busy` → SlowDown;
 * - everything else, including `NotFound` (handlers decide between NoSuchKey, NoSuchBucket, NoSuchUpload…),
 *   becomes InternalError with the default message: internal messages never reach clients. The original
 *   error stays available as `cause` for logging.
 */
export function toS3Error(err: unknown): S3Error {
  if (err instanceof S3Error) return err;
  if (err instanceof ArcaError) {
    switch (err.code) {
      case 'BadDigest':
        return new S3Error('BadDigest', { cause: err });
      case 'PreconditionFailed':
        return new S3Error('PreconditionFailed', { cause: err });
      case 'InsufficientReplicas':
        return new S3Error('ServiceUnavailable', { cause: err });
      case 'ClientAborted':
        return new S3Error('IncompleteBody', { cause: err });
      case 'Timeout':
        return new S3Error(err.detail.side === 'client' ? 'RequestTimeout' : 'ServiceUnavailable', { cause: err });
      case 'Conflict':
        return new S3Error('OperationAborted', { cause: err });
      // Hook messages are written for clients (compute/sandbox): the hook's own words or the limit it broke.
      case 'HookRejected':
        return new S3Error('HookRejected', { message: err.message, cause: err });
      case 'HookFailed':
        return new S3Error('HookFailed', { message: err.message, cause: err });
      case 'Busy':
        return new S3Error('SlowDown', { cause: err });
      default:
        return new S3Error('InternalError', { cause: err });
    }
  }
  return new S3Error('InternalError', { cause: err });
}
