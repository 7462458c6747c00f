/**
 * The gateway's own answers on the proxy listener: a plugin's `kong.response.exit` or a gateway
 * error, passed through the route's header_filter/body_filter when plugins ran. Every failure of
 * the request lifecycle ends in {@link ErrorAnswer.fail}: a GatewayError becomes its Kong-shaped
 * JSON answer (5xx upstream failures logged with their stable code), anything else a logged 500.
 *
 * @example
 *   const { fail } = errorAnswer(logger);
 *   try { ... } catch (error) { await fail(ctx, ctx.res, run, error); }
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from '../observability/logger.ts';
import type { RequestContext } from './context.ts';
import { GATEWAY_ERRORS, GatewayError, errorBody } from './errors.ts';
import { applyHeaderEdits, type OutHeaders } from './header-edits.ts';
import { KONG_426_HEADERS } from './https-only.ts';
import { PluginFailure, type PluginRun } from './plugin-run.ts';
import { sendError } from './respond.ts';

/** A response the gateway or a plugin makes itself, through header_filter/body_filter. */
export async function respond(ctx: RequestContext, run: PluginRun | undefined, status: number, headers: OutHeaders, body: Buffer, source: 'exit' | 'error'): Promise<void> {
  if (run) {
    ctx.response = { status, headers: applyHeaderEdits(headers, ctx.responseEdits ?? []), source };
    if (run.hasHeaderFilter) await run.headerFilter();
    if (run.hasBodyFilter) body = Buffer.concat([run.bodyFilter(body, false), run.bodyFilter(Buffer.alloc(0), true)]);
    ({ status, headers } = ctx.response);
  }
  headers['content-length'] = String(body.length);
  ctx.res.writeHead(status, headers);
  ctx.res.end(body);
}

export interface ErrorAnswer {
  /** Answers `error` on `res` (or only closes it, when the client left or the head is out). */
  fail(ctx: RequestContext | undefined, res: ServerResponse, run: PluginRun | undefined, error: unknown): Promise<void>;
  /** nginx's error log: the upstream failed, with the row's stable code and what happened. */
  logUpstreamFailure(ctx: RequestContext | undefined, error: GatewayError): void;
}

export function errorAnswer(logger: Logger): ErrorAnswer {
  function logUpstreamFailure(ctx: RequestContext | undefined, error: GatewayError): void {
    const detail = error.detail ?? (error.cause as Error | undefined)?.message;
    logger.warn({ request_id: ctx?.id, code: error.code, ...(detail !== undefined ? { detail } : {}), route: ctx?.match?.route.name ?? ctx?.match?.route.id }, error.message);
  }

  async function fail(ctx: RequestContext | undefined, res: ServerResponse, run: PluginRun | undefined, error: unknown): Promise<void> {
    // The client went away (nginx's 499): nobody is left to answer and nothing went wrong here.
    if (res.destroyed || res.socket?.destroyed) return;
    if (res.headersSent) return void res.destroy();
    const code = error instanceof GatewayError ? error.code : 'INTERNAL';
    if (code === 'INTERNAL') {
      const plugin = error instanceof PluginFailure ? { plugin: error.plugin, phase: error.phase } : {};
      logger.error({ err: error, request_id: ctx?.id, code: error instanceof PluginFailure ? 'PLUGIN_FAILED' : code, ...plugin }, 'request failed');
    } else if (GATEWAY_ERRORS[code].status >= 502) {
      logUpstreamFailure(ctx, error as GatewayError);
    }
    // An unread request body would be parsed as the next request: close instead.
    const extra: Record<string, string> = code === 'BODY_TOO_LARGE' ? { connection: 'close' } : code === 'HTTPS_REQUIRED' ? KONG_426_HEADERS : {};
    // The plugins that ran also see error answers in header_filter (cors on a 502), unless a
    // plugin is what failed.
    if (!ctx || !run || error instanceof PluginFailure) return sendError(res, code, ctx?.id, extra);
    const headers: OutHeaders = { 'content-type': 'application/json; charset=utf-8', ...extra };
    try {
      await respond(ctx, run, GATEWAY_ERRORS[code].status, headers, Buffer.from(errorBody(code, ctx.id)), 'error');
    } catch (filterError) {
      logger.error({ err: filterError, request_id: ctx.id, code: 'PLUGIN_FAILED' }, 'header_filter failed on an error response');
      if (!res.headersSent) sendError(res, code, ctx.id, extra);
    }
  }

  return { fail, logUpstreamFailure };
}
