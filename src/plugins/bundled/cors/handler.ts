import type { CompileEnv } from '../../contract.ts';
import type { HeaderValue, Pdk } from '../../pdk/types.ts';
import { compileOrigins, type OriginMatcher } from './origins.ts';
import type { Config } from './schema.ts';

/** Kong's 2000: before authentication, so preflights are answered and 401s carry CORS headers. */
export const PRIORITY = 2000;
export const VERSION = '1.0.0';

export interface Compiled {
  /** No origins, or only `*`: every origin is allowed and answered with `*`. */
  readonly allowAll: boolean;
  readonly origins: OriginMatcher;
  readonly credentials: boolean;
  readonly allowMethods: string;
  /** Joined `headers`, or undefined to echo Access-Control-Request-Headers. */
  readonly allowHeaders: string | undefined;
  readonly exposeHeaders: string | undefined;
  readonly maxAge: string | undefined;
  readonly privateNetwork: boolean;
  readonly preflightContinue: boolean;
  readonly allowOriginAbsent: boolean;
}

export function compile(config: Config, _env?: CompileEnv): Compiled {
  const origins = config.origins ?? [];
  const allowAll = origins.length === 0 || (origins.length === 1 && origins[0] === '*');
  return {
    allowAll,
    origins: compileOrigins(allowAll ? [] : origins),
    credentials: config.credentials,
    allowMethods: config.methods.join(','),
    allowHeaders: config.headers && config.headers.length > 0 ? config.headers.join(',') : undefined,
    exposeHeaders: config.exposed_headers && config.exposed_headers.length > 0 ? config.exposed_headers.join(',') : undefined,
    maxAge: config.max_age === undefined || config.max_age === null ? undefined : String(config.max_age),
    privateNetwork: config.private_network,
    preflightContinue: config.preflight_continue,
    allowOriginAbsent: config.allow_origin_absent,
  };
}

/** Set on the preflight: header_filter must not add anything (answered here, or by upstream). */
const SKIP = 'skip_response_headers';

/**
 * A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered 200
 * here with the Allow-* headers, unless `preflight_continue` hands it to the upstream.
 */
export function access(kong: Pdk, conf: Compiled): void {
  if (
    kong.request.getMethod() !== 'OPTIONS' ||
    kong.request.getHeader('origin') === undefined ||
    kong.request.getHeader('access-control-request-method') === undefined
  ) {
    return;
  }
  kong.ctx.plugin[SKIP] = true;
  if (conf.preflightContinue) return;

  const headers: Record<string, HeaderValue> = {};
  originHeaders(kong, conf, headers, undefined);
  const allowHeaders = conf.allowHeaders ?? kong.request.getHeader('access-control-request-headers');
  if (allowHeaders !== undefined) headers['Access-Control-Allow-Headers'] = allowHeaders;
  headers['Access-Control-Allow-Methods'] = conf.allowMethods;
  if (conf.maxAge !== undefined) headers['Access-Control-Max-Age'] = conf.maxAge;
  if (conf.privateNetwork && kong.request.getHeader('access-control-request-private-network') === 'true') {
    headers['Access-Control-Allow-Private-Network'] = 'true';
  }
  kong.response.exit(200, undefined, headers);
}

/**
 * Every other response — the upstream's, or another plugin's error such as key-auth's 401 —
 * gets the origin, credentials and exposed headers.
 */
export function header_filter(kong: Pdk, conf: Compiled): void {
  if (kong.ctx.plugin[SKIP] === true) return;
  if (!conf.allowOriginAbsent && kong.request.getHeader('origin') === undefined) return;
  const headers: Record<string, HeaderValue> = {};
  originHeaders(kong, conf, headers, kong.response.getHeader('vary'));
  if (conf.exposeHeaders !== undefined) headers['Access-Control-Expose-Headers'] = conf.exposeHeaders;
  if (headers['Access-Control-Allow-Origin'] === undefined) kong.response.clearHeader('Access-Control-Allow-Origin');
  for (const [name, value] of Object.entries(headers)) kong.response.setHeader(name, value);
}

/**
 * Kong's configure_origin + configure_credentials: `*` unless credentials are on (then the
 * request's origin is echoed, since browsers refuse `*` with credentials); otherwise the
 * request's origin when it matches, always with `Vary: Origin` so caches key on it.
 */
function originHeaders(kong: Pdk, conf: Compiled, out: Record<string, HeaderValue>, currentVary: string | undefined): void {
  const origin = kong.request.getHeader('origin');
  if (conf.allowAll) {
    if (conf.credentials && origin !== undefined) {
      out['Access-Control-Allow-Origin'] = origin;
      out['Access-Control-Allow-Credentials'] = 'true';
      out['Vary'] = withOrigin(currentVary);
    } else {
      out['Access-Control-Allow-Origin'] = '*';
    }
    return;
  }
  out['Vary'] = withOrigin(currentVary);
  if (origin !== undefined && conf.origins.match(origin)) out['Access-Control-Allow-Origin'] = origin;
  if (conf.credentials) out['Access-Control-Allow-Credentials'] = 'true';
}

/** Adds `Origin` to an upstream's Vary unless it is already there (or `*`). */
function withOrigin(vary: string | undefined): string {
  if (vary === undefined || vary.trim() === '') return 'Origin';
  const tokens = vary.split(',').map((t) => t.trim().toLowerCase());
  return tokens.includes('origin') || tokens.includes('*') ? vary : `${vary}, Origin`;
}
