import type { RequestContext } from '../../gateway/context.ts';
import { firstHeader } from '../../gateway/header-edits.ts';
import type { UriCaptures } from '../../router/types.ts';
import type { PluginPhase } from '../contract.ts';
import { parseBody, parseUrlEncoded, readBody } from './bodies.ts';
import { checkPhase, REQUEST_PHASES } from './phase-guard.ts';
import type { PdkRequest } from './types.ts';

const NO_CAPTURES: UriCaptures = { unnamed: [], named: {} };

/** What the PDK objects of one request share: the request, the running phase, the limits. */
export interface PdkScope {
  readonly context: RequestContext;
  readonly phase: PluginPhase;
  readonly plugin: string;
  readonly maxBodySize: number;
}

/** `kong.request`: the client's request as received (path normalized). */
export class RequestApi implements PdkRequest {
  private query: Record<string, string | string[]> | undefined;
  private headers: Record<string, string | string[]> | undefined;

  constructor(private readonly scope: PdkScope) {}

  private get ctx(): RequestContext {
    return this.scope.context;
  }

  getMethod(): string {
    return this.ctx.req.method ?? 'GET';
  }
  getScheme(): 'http' | 'https' {
    return this.ctx.scheme;
  }
  getHttpVersion(): number {
    const { httpVersionMajor, httpVersionMinor } = this.ctx.req;
    return httpVersionMajor + httpVersionMinor / 10;
  }
  getHost(): string {
    return this.ctx.host;
  }
  getPort(): number {
    return this.ctx.port;
  }
  getPath(): string {
    return this.ctx.path;
  }
  getRawPath(): string {
    return (this.ctx.req.url ?? '/').split('?')[0] ?? '/';
  }
  getPathWithQuery(): string {
    return this.ctx.hasQueryMark ? `${this.ctx.path}?${this.ctx.query}` : this.ctx.path;
  }
  getRawQuery(): string {
    return this.ctx.query;
  }
  getQueryArg(name: string): string | undefined {
    const value = this.getQuery()[name];
    return typeof value === 'string' ? value : value?.[0];
  }
  getQuery(): Readonly<Record<string, string | string[]>> {
    return (this.query ??= parseUrlEncoded(this.ctx.query));
  }
  getHeader(name: string): string | undefined {
    const value = this.ctx.req.headers[name.toLowerCase()];
    if (value === undefined || typeof value !== 'string' || !value.includes(',')) return typeof value === 'string' ? value : value?.[0];
    // Node joins repeated headers with ", ": the first value is the first one sent.
    return this.ctx.req.headersDistinct[name.toLowerCase()]?.[0];
  }
  /**
   * Repeated headers stay separate values (Node joins them in `req.headers`), as Kong's
   * get_headers returns a list: key-auth must see a key sent twice as a duplicate.
   */
  getHeaders(): Readonly<Record<string, string | string[] | undefined>> {
    return (this.headers ??= distinctHeaders(this.ctx.req.rawHeaders));
  }
  getUriCaptures(): UriCaptures {
    return this.ctx.match?.uriCaptures ?? NO_CAPTURES;
  }
  async getRawBody(): Promise<Buffer> {
    checkPhase(this.scope.phase, REQUEST_PHASES, 'kong.request.getRawBody');
    this.ctx.body ??= await readBody(this.ctx.req, this.scope.maxBodySize);
    return this.ctx.body;
  }
  async getBody(): Promise<unknown> {
    checkPhase(this.scope.phase, REQUEST_PHASES, 'kong.request.getBody');
    return parseBody(await this.getRawBody(), firstHeader(this.ctx.req.headers, 'content-type'));
  }
  getStartTime(): number {
    return performance.timeOrigin + this.ctx.startedAt;
  }
}

/**
 * Node's `headersDistinct` (lower-case names, every value kept, in order) with a value sent once
 * as a plain string, in one pass over the raw list: building `headersDistinct` first and then
 * copying it cost twice the objects on every request with key-auth.
 */
export function distinctHeaders(raw: readonly string[]): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const seen = result[name];
    if (typeof seen === 'string') result[name] = [seen, value];
    else if (Array.isArray(seen)) seen.push(value);
    else result[name] = value;
  }
  return result;
}
