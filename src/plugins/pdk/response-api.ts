import type { RequestContext } from '../../gateway/context.ts';
import { applyHeaderEdits, firstHeader, type HeaderEdit } from '../../gateway/header-edits.ts';
import { exitBody } from './bodies.ts';
import { BEFORE_RESPONSE, checkPhase, REQUEST_PHASES, RESPONSE_PHASES } from './phase-guard.ts';
import type { PdkScope } from './request-api.ts';
import type { ExitBody, HeaderValue, PdkResponse, Terminator } from './types.ts';

type Headers = Readonly<Record<string, HeaderValue>>;

/** `kong.response`: answering early, and the response as header_filter / log see it. */
export class ResponseApi implements PdkResponse {
  constructor(private readonly scope: PdkScope) {}

  private get ctx(): RequestContext {
    return this.scope.context;
  }

  exit(status: number, body?: ExitBody, headers?: Headers): void {
    this.answer(status, body, headers, 'kong.response.exit');
  }
  error(status: number, message?: string, headers?: Headers): void {
    this.answer(status, { message: message ?? defaultMessage(status), request_id: this.ctx.id }, headers, 'kong.response.error');
  }
  getStatus(): number {
    this.guard(RESPONSE_PHASES, 'getStatus');
    return this.ctx.response?.status ?? 0;
  }
  getSource(): 'service' | 'exit' | 'error' {
    this.guard(RESPONSE_PHASES, 'getSource');
    return this.ctx.response?.source ?? 'service';
  }
  getHeader(name: string): string | undefined {
    this.guard(RESPONSE_PHASES, 'getHeader');
    return this.ctx.response ? firstHeader(this.ctx.response.headers, name) : undefined;
  }
  getHeaders(): Headers {
    this.guard(RESPONSE_PHASES, 'getHeaders');
    return this.ctx.response?.headers ?? {};
  }
  terminate(terminator: Terminator): void {
    checkPhase(this.scope.phase, ['access'], 'kong.response.terminate');
    this.ctx.terminator = terminator;
  }
  setStatus(status: number): void {
    this.guard(BEFORE_RESPONSE, 'setStatus');
    if (this.ctx.response) this.ctx.response.status = status;
  }
  setHeader(name: string, value: HeaderValue): void {
    this.edit({ op: 'set', name: lowerCaseName(name), value }, 'setHeader');
  }
  addHeader(name: string, value: string): void {
    this.edit({ op: 'add', name: lowerCaseName(name), value }, 'addHeader');
  }
  clearHeader(name: string): void {
    this.edit({ op: 'clear', name: lowerCaseName(name) }, 'clearHeader');
  }

  private guard(allowed: Parameters<typeof checkPhase>[1], what: string): void {
    checkPhase(this.scope.phase, allowed, `kong.response.${what}`);
  }

  /** Before the response exists, edits wait in `responseEdits` and apply to it later. */
  private edit(edit: HeaderEdit, what: string): void {
    this.guard(BEFORE_RESPONSE, what);
    if (this.ctx.response) applyHeaderEdits(this.ctx.response.headers, [edit]);
    else (this.ctx.responseEdits ??= []).push(edit);
  }

  private answer(status: number, body: ExitBody | undefined, headers: Headers | undefined, what: string): void {
    checkPhase(this.scope.phase, REQUEST_PHASES, what);
    if (!Number.isInteger(status) || status < 100 || status > 599) throw new TypeError(`${what}: invalid status ${status}`);
    this.ctx.exit = exitBody(status, body, headers);
  }
}

/**
 * Lower-cased header names by the name a plugin passed. Plugins set the same few names on
 * every request (rate-limiting sets seven), so a lookup replaces a new string per call; the
 * cap keeps names made up per request from growing it.
 */
const lowerCased = new Map<string, string>();
const LOWER_CASED_MAX = 512;

function lowerCaseName(name: string): string {
  let lower = lowerCased.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (lowerCased.size < LOWER_CASED_MAX) lowerCased.set(name, lower);
  }
  return lower;
}

const DEFAULT_MESSAGES: Readonly<Record<number, string>> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  413: 'Request size limit exceeded',
  429: 'API rate limit exceeded',
  500: 'An unexpected error occurred',
  502: 'An invalid response was received from the upstream server',
  503: 'Service unavailable',
  504: 'The upstream server is timing out',
};

function defaultMessage(status: number): string {
  return DEFAULT_MESSAGES[status] ?? 'Error';
}
