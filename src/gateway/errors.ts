/**
 * Every error answer the gateway gives, in one table. Callers branch on `code`, never on
 * message text. Messages match Kong's wording where Kong has one.
 */
export const GATEWAY_ERRORS = {
  NO_ROUTE: { status: 404, message: 'no Route matched with those values' },
  NO_SERVICE: { status: 503, message: 'no Service found with those values' },
  NO_PEER: { status: 503, message: 'failure to get a peer from the ring-balancer' },
  NAME_RESOLUTION_FAILED: { status: 503, message: 'name resolution failed' },
  UPSTREAM_TIMEOUT: { status: 504, message: 'The upstream server is timing out' },
  UPSTREAM_UNAVAILABLE: { status: 502, message: 'An invalid response was received from the upstream server' },
  // TLS failures answer as Kong does (a generic 502); the reason goes to the error log only.
  UPSTREAM_TLS_VERIFY_FAILED: { status: 502, message: 'An invalid response was received from the upstream server' },
  UPSTREAM_TLS_HANDSHAKE_FAILED: { status: 502, message: 'An invalid response was received from the upstream server' },
  HTTPS_REQUIRED: { status: 426, message: 'Please use HTTPS protocol' },
  BAD_REQUEST: { status: 400, message: 'Bad request' },
  BAD_PATH: { status: 400, message: 'Bad request: invalid request path' },
  BODY_TOO_LARGE: { status: 413, message: 'Request size limit exceeded' },
  HEADERS_TOO_LARGE: { status: 431, message: 'Request header fields too large' },
  NOT_FOUND: { status: 404, message: 'Not found' },
  UNAUTHORIZED: { status: 401, message: 'Unauthorized' },
  FORBIDDEN: { status: 403, message: 'Forbidden' },
  SHUTTING_DOWN: { status: 503, message: 'Gateway is shutting down' },
  INTERNAL: { status: 500, message: 'An unexpected error occurred' },
} as const satisfies Record<string, { status: number; message: string }>;

export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;

/** An error that maps to one row of {@link GATEWAY_ERRORS}. */
export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  readonly status: number;
  readonly detail?: string;

  constructor(code: GatewayErrorCode, options: { detail?: string; cause?: unknown } = {}) {
    super(GATEWAY_ERRORS[code].message, { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = GATEWAY_ERRORS[code].status;
    if (options.detail !== undefined) this.detail = options.detail;
  }
}

/** The JSON body of an error answer: Kong's `{message, request_id}` plus our stable `code`. */
export function errorBody(code: GatewayErrorCode, requestId?: string, message?: string): string {
  const body: Record<string, string> = { message: message ?? GATEWAY_ERRORS[code].message, code };
  if (requestId) body.request_id = requestId;
  return JSON.stringify(body);
}
