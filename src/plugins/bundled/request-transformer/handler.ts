import type { CompileEnv } from '../../contract.ts';
import type { Pdk } from '../../pdk/types.ts';
import { compileTemplate, TemplateError, type Template } from '../../template.ts';
import { transformBody } from './body.ts';
import { compileEntries, compileNames } from './entries.ts';
import { transformHeaders, type HeaderOps } from './headers.ts';
import { applyParamOps, hasOps, type ParamOps, type Params } from './params.ts';
import type { Config } from './schema.ts';

/** Kong's 801: after auth and rate limiting (templates can use the consumer), before response-transformer. */
export const PRIORITY = 801;
export const VERSION = '1.0.0';

export interface Compiled {
  readonly method: string | undefined;
  readonly uri: Template | undefined;
  readonly headers: HeaderOps;
  readonly query: ParamOps;
  readonly body: ParamOps;
}

type Part = 'headers' | 'querystring' | 'body';

/** Checks every entry and compiles every template once; a bad one is a config error. */
export function compile(config: Config, _env?: CompileEnv): Compiled {
  const ops = (part: Part) => {
    const headers = part === 'headers';
    return {
      remove: compileNames(config.remove[part], `remove.${part}`, headers),
      rename: compileEntries(config.rename[part], `rename.${part}`, headers, headers),
      replace: compileEntries(config.replace[part], `replace.${part}`, headers),
      add: compileEntries(config.add[part], `add.${part}`, headers),
      append: compileEntries(config.append[part], `append.${part}`, headers),
    };
  };
  let uri: Template | undefined;
  if (config.replace.uri !== undefined && config.replace.uri !== null) {
    try {
      uri = compileTemplate(config.replace.uri);
    } catch (err) {
      throw err instanceof TemplateError ? new Error(`replace.uri: ${err.message}`) : err;
    }
  }
  return { method: config.http_method ?? undefined, uri, headers: ops('headers'), query: ops('querystring'), body: ops('body') };
}

/** Kong's order: uri, method, headers, body, querystring. */
export async function access(kong: Pdk, conf: Compiled): Promise<void> {
  if (conf.uri) {
    // A template can render empty (a missing capture); the upstream path still needs its '/'.
    const path = conf.uri.render(kong);
    kong.service.request.setPath(path.startsWith('/') ? path : `/${path}`);
  }
  const query = conf.method !== undefined ? await transformMethod(kong, conf.method) : undefined;
  transformHeaders(kong, conf.headers);
  await transformBody(kong, conf.body);
  if (hasOps(conf.query) || query !== undefined) {
    const params: Params = query ?? { ...kong.request.getQuery() };
    applyParamOps(kong, params, conf.query);
    kong.service.request.setQuery(params as Record<string, string | string[]>);
  }
}

/**
 * Sets the upstream method. Turning a urlencoded form request into GET/HEAD/TRACE moves the
 * form's fields into the querystring (Kong's transform_method); returns that querystring.
 */
async function transformMethod(kong: Pdk, method: string): Promise<Params | undefined> {
  kong.service.request.setMethod(method);
  if (method !== 'GET' && method !== 'HEAD' && method !== 'TRACE') return undefined;
  const contentType = kong.service.request.getHeader('content-type');
  if (contentType === undefined || !contentType.toLowerCase().includes('application/x-www-form-urlencoded')) return undefined;
  const form = await kong.request.getBody();
  if (typeof form !== 'object' || form === null || Object.keys(form).length === 0) return undefined;
  const query: Params = { ...kong.request.getQuery() };
  for (const [name, value] of Object.entries(form as Params)) {
    const current = query[name];
    if (current === undefined) query[name] = value;
    else query[name] = [...(Array.isArray(current) ? current : [current]), ...(Array.isArray(value) ? value : [value])];
  }
  return query;
}
