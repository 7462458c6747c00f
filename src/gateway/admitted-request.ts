/**
 * What an open subscriber stream keeps of its request for reload re-checks: the request line,
 * headers and client as the router and the plugins' `recheck` read them, and the route it
 * matched. Kept instead of the request context, so `req`, `res`, the plugin run and its PDK
 * can be collected while the stream is open (there may be tens of thousands).
 *
 * ```ts
 * const admitted = admittedRequest(ctx);         // once the stream is subscribed
 * await recheckStream(admitted, shape, newState, pdkOptions, logger);
 * ```
 */
import { IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import type { Route } from '../config/types.ts';
import type { RequestContext } from './context.ts';

export interface AdmittedRequest extends Pick<RequestContext, 'id' | 'state' | 'scheme' | 'clientIp' | 'path' | 'query' | 'hasQueryMark' | 'host' | 'port'> {
  /** The route the request matched (undefined only if it never routed). */
  readonly route: Route | undefined;
  /** A request stand-in with the fields the router and the PDK read (see RecordedRequest). */
  readonly req: IncomingMessage;
}

/**
 * The parts of an IncomingMessage the router, the PDK and `new ServerResponse(req)` read: no
 * stream state, no parser, no reference to the response. The socket stays: the stream keeps
 * it open anyway, and TLS client identities are read from it.
 */
class RecordedRequest {
  readonly method: string | undefined;
  readonly url: string | undefined;
  /**
   * `rawHeaders` as one JSON string: held per stream, the array and a string per name and value
   * cost ~0.2 KiB more. Parsed again on the rare read (a re-check).
   */
  private readonly rawHeaderText: string;
  /** Set only when the server joins duplicate headers (`joinDuplicateHeaders`), as Node reads it. */
  readonly joinDuplicateHeaders?: boolean;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  readonly socket: IncomingMessage['socket'];

  constructor(req: IncomingMessage) {
    this.method = req.method;
    this.url = req.url;
    // Only the raw headers are kept: `headers` is rebuilt from them on the rare re-check.
    this.rawHeaderText = JSON.stringify(req.rawHeaders);
    if ((req as ParsedHeaders).joinDuplicateHeaders === true) this.joinDuplicateHeaders = true;
    this.httpVersionMajor = req.httpVersionMajor;
    this.httpVersionMinor = req.httpVersionMinor;
    this.socket = req.socket;
  }

  /** As Node has it (`<major>.<minor>`); built on read rather than held per stream. */
  get httpVersion(): string {
    return `${this.httpVersionMajor}.${this.httpVersionMinor}`;
  }

  /** As on the request: names and values alternating, as received. A new array on each read. */
  get rawHeaders(): string[] {
    return JSON.parse(this.rawHeaderText) as string[];
  }

  /**
   * As Node computes it, by Node's own code (duplicates joined, dropped or collected exactly as
   * on the original request). Built on each read: held per stream, it would cost ~0.3 KiB.
   */
  get headers(): IncomingHttpHeaders {
    const parsed = new IncomingMessage(null as unknown as IncomingMessage['socket']) as ParsedHeaders;
    if (this.joinDuplicateHeaders === true) parsed.joinDuplicateHeaders = true;
    const raw = this.rawHeaders;
    parsed._addHeaderLines(raw, raw.length);
    return parsed.headers;
  }

  /** As Node computes it: every value of each header, by lower-case name. */
  get headersDistinct(): Record<string, string[]> {
    const distinct: Record<string, string[]> = {};
    const raw = this.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = (raw[i] ?? '').toLowerCase();
      (distinct[name] ??= []).push(raw[i + 1] ?? '');
    }
    return distinct;
  }
}

/** Node's (undocumented, long-stable) entry point for a message's raw header lines. */
interface ParsedHeaders extends IncomingMessage {
  joinDuplicateHeaders?: boolean;
  _addHeaderLines(rawHeaders: string[], n: number): void;
}

export function admittedRequest(ctx: RequestContext): AdmittedRequest {
  return {
    id: ctx.id,
    state: ctx.state,
    scheme: ctx.scheme,
    clientIp: ctx.clientIp,
    path: ctx.path,
    query: ctx.query,
    hasQueryMark: ctx.hasQueryMark,
    host: ctx.host,
    port: ctx.port,
    route: ctx.match?.route,
    // Only ever read, never streamed from: a structural stand-in is enough (see the class).
    req: new RecordedRequest(ctx.req) as unknown as IncomingMessage,
  };
}
