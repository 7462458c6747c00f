import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { CompileEnv } from '../../contract.ts';
import type { ExitBody, HeaderValue, Pdk } from '../../pdk/types.ts';
import type { Config } from './schema.ts';

/** Kong's 2: last, so auth, rate limiting and logging still apply to terminated requests. */
export const PRIORITY = 2;
export const VERSION = '1.0.0';
/** Re-run on open streams after a reload: a pure decision on the request (see PluginHandler.recheck). */
export const recheck = true;

/** Kong's default messages by status (`kong/plugins/request-termination/handler.lua`). */
const DEFAULT_MESSAGES: Readonly<Record<number, string>> = {
  401: 'Unauthorized',
  404: 'Not found',
  405: 'Method not allowed',
  500: 'An unexpected error occurred',
  502: 'Bad Gateway',
  503: 'Service unavailable',
};

/** Stands in for Kong's node id in echo answers (Kong: the node's uuid). One per process. */
const NODE_ID = randomUUID();

export interface Compiled {
  readonly status: number;
  readonly trigger: string | undefined;
  readonly echo: boolean;
  readonly message: string | undefined;
  /** The fixed answer when not echoing: the raw body with its content type, or `{message}`. */
  readonly body: ExitBody;
  readonly headers: Readonly<Record<string, HeaderValue>> | undefined;
}

/** Kong's entity checks, with its messages, then the fixed answer built once. */
export function compile(config: Config, _env?: CompileEnv): Compiled {
  const message = config.message ?? undefined;
  const body = config.body ?? undefined;
  const contentType = config.content_type ?? undefined;
  if (message !== undefined && (body !== undefined || contentType !== undefined)) {
    throw new Error('message cannot be used with content_type or body');
  }
  if (contentType !== undefined && body === undefined) throw new Error('content_type requires a body');
  const defaulted = message ?? DEFAULT_MESSAGES[config.status_code];
  return {
    status: config.status_code,
    trigger: config.trigger ?? undefined,
    echo: config.echo,
    message,
    body: body ?? (defaulted === undefined ? {} : { message: defaulted }),
    headers: body !== undefined && contentType !== undefined ? { 'Content-Type': contentType } : undefined,
  };
}

export async function access(kong: Pdk, conf: Compiled): Promise<void> {
  if (conf.trigger !== undefined && kong.request.getHeader(conf.trigger) === undefined && kong.request.getQuery()[conf.trigger] === undefined) {
    return;
  }
  if (conf.echo) {
    kong.response.exit(conf.status, await echoBody(kong, conf));
    return;
  }
  kong.response.exit(conf.status, conf.body, conf.headers);
}

/** Kong's echo document: the request as the gateway saw it, and the matched route/service. */
async function echoBody(kong: Pdk, conf: Compiled): Promise<Record<string, unknown>> {
  const rawBody = await kong.request.getRawBody();
  const service = kong.router.getService();
  // Kong's get_body gives nil (an absent key) for an empty or unparseable body.
  const body = rawBody.length > 0 ? await kong.request.getBody() : undefined;
  return {
    ...(conf.message !== undefined ? { message: conf.message } : {}),
    kong: { node_id: NODE_ID, worker_pid: process.pid, hostname: hostname() },
    request: {
      scheme: kong.request.getScheme(),
      host: kong.request.getHost(),
      port: kong.request.getPort(),
      headers: kong.request.getHeaders(),
      query: kong.request.getQuery(),
      ...(body !== undefined ? { body } : {}),
      raw_body: rawBody.toString(),
      method: kong.request.getMethod(),
      path: kong.request.getPath(),
    },
    matched_route: kong.router.getRoute(),
    ...(service ? { matched_service: service } : {}),
  };
}
