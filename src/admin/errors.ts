/**
 * Every error answer of the Admin API, in one table. Bodies are Kong's exactly: plain
 * `{message}` for the HTTP-level refusals, `{code, name, message, fields?}` for the errors
 * Kong's DAO layer numbers (`kong/db/errors.lua`: 7 invalid offset, 9 invalid size, 12
 * operation unsupported, 14 invalid declarative configuration...). The table keys are the
 * stable codes Sluice logs and tests branch on.
 *
 * ```ts
 * throw new AdminError('INVALID_SIZE', { message: 'size must be a number' });
 * ```
 */
export const ADMIN_ERRORS = {
  NOT_FOUND: { status: 404, message: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed' },
  BAD_JSON: { status: 400, message: 'Cannot parse JSON body' },
  BAD_BODY: { status: 400, message: 'Cannot parse request body' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported Media Type' },
  BODY_TOO_LARGE: { status: 413, message: 'Request size limit exceeded' },
  NO_CONFIG: { status: 400, message: 'expected a declarative configuration' },
  SCHEMA_VIOLATION: { status: 400, message: 'schema violation', kong: { code: 2, name: 'schema violation' } },
  INVALID_OFFSET: { status: 400, message: 'invalid offset', kong: { code: 7, name: 'invalid offset' } },
  INVALID_SIZE: { status: 400, message: 'invalid size', kong: { code: 9, name: 'invalid size' } },
  INVALID_OPTIONS: { status: 400, message: 'invalid options', kong: { code: 11, name: 'invalid options' } },
  OPERATION_UNSUPPORTED: { status: 405, message: 'operation unsupported', kong: { code: 12, name: 'operation unsupported' } },
  INVALID_DECLARATIVE_CONFIG: {
    status: 400,
    message: 'declarative config is invalid',
    kong: { code: 14, name: 'invalid declarative configuration' },
  },
  INTERNAL: { status: 500, message: 'An unexpected error occurred' },
} as const satisfies Record<string, { status: number; message: string; kong?: { code: number; name: string } }>;

export type AdminErrorCode = keyof typeof ADMIN_ERRORS;

/** The JSON body of an Admin API error. */
export interface AdminErrorBody {
  readonly message: string;
  readonly code?: number;
  readonly name?: string;
  readonly fields?: unknown;
  readonly [extra: string]: unknown;
}

export interface AdminErrorOptions {
  /** Replaces the table's message (Kong's messages often name the value). */
  readonly message?: string;
  readonly fields?: unknown;
  /** More top-level keys, e.g. `flattened_errors`. */
  readonly extra?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown;
}

/** An error that maps to one row of {@link ADMIN_ERRORS}; the router renders it. */
export class AdminError extends Error {
  readonly code: AdminErrorCode;
  readonly status: number;
  readonly body: AdminErrorBody;

  constructor(code: AdminErrorCode, options: AdminErrorOptions = {}) {
    const row: { status: number; message: string; kong?: { code: number; name: string } } = ADMIN_ERRORS[code];
    const message = options.message ?? row.message;
    super(message, { cause: options.cause });
    this.name = 'AdminError';
    this.code = code;
    this.status = row.status;
    this.body = {
      ...(row.kong ? { code: row.kong.code, name: row.kong.name } : {}),
      message,
      ...(options.fields !== undefined ? { fields: options.fields } : {}),
      ...options.extra,
    };
  }
}
