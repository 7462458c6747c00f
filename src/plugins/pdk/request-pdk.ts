import type { Consumer, Credential, Route, Service } from '../../config/types.ts';
import type { RequestContext } from '../../gateway/context.ts';
import { GatewayError } from '../../gateway/errors.ts';
import { applyHeaderEdits, firstHeader, type HeaderEdit } from '../../gateway/header-edits.ts';
import type { Logger } from '../../observability/logger.ts';
import type { UriCaptures } from '../../router/types.ts';
import type { PluginPhase } from '../contract.ts';
import { BEFORE_RESPONSE, checkPhase, REQUEST_PHASES, RESPONSE_PHASES } from './phase-guard.ts';
import { exitBody, parseBody, parseUrlEncoded, readBody } from './bodies.ts';
import type { ExitBody, HeaderValue, Pdk, PdkClient, PdkLog, PdkRequest, PdkResponse, PdkRouter, PdkServiceRequest } from './types.ts';

const NO_CAPTURES: UriCaptures = { unnamed: [], named: {} };

export interface PdkOptions {
  readonly logger: Logger;
  /** `client_max_body_size` in bytes; 0 = unlimited. */
  readonly maxBodySize: number;
}

/**
 * The PDK of one request. One object serves every plugin and phase of the request: the runner
 * sets `phase` and `plugin` before each call, so nothing is allocated per plugin call.
 */
export class RequestPdk implements Pdk {
  phase: PluginPhase = 'rewrite';
  /** Name of the plugin being run (for `ctx.plugin` and log fields). */
  plugin = '';
  readonly request: PdkRequest;
  readonly response: PdkResponse;
  readonly service: { readonly request: PdkServiceRequest };
  readonly client: PdkClient;
  readonly router: PdkRouter;
  readonly log: PdkLog;
  private readonly pluginData = new Map<string, Record<string, unknown>>();

  constructor(
    readonly context: RequestContext,
    options: PdkOptions,
  ) {
    const ctx = context;
    const guard = (allowed: readonly PluginPhase[], what: string) => checkPhase(this.phase, allowed, what);
    let query: Record<string, string | string[]> | undefined;
    let headers: Record<string, string | string[]> | undefined;

    this.request = {
      getMethod: () => ctx.req.method ?? 'GET',
      getScheme: () => ctx.scheme,
      getHost: () => ctx.host,
      getPort: () => ctx.port,
      getPath: () => ctx.path,
      getRawPath: () => (ctx.req.url ?? '/').split('?')[0] ?? '/',
      getPathWithQuery: () => (ctx.hasQueryMark ? `${ctx.path}?${ctx.query}` : ctx.path),
      getRawQuery: () => ctx.query,
      getQueryArg: (name) => {
        const value = this.request.getQuery()[name];
        return typeof value === 'string' ? value : value?.[0];
      },
      getQuery: () => (query ??= parseUrlEncoded(ctx.query)),
      getHeader: (name) => ctx.req.headersDistinct[name.toLowerCase()]?.[0],
      // Repeated headers stay separate values (Node joins them in `req.headers`), as Kong's
      // get_headers returns a list: key-auth must see a key sent twice as a duplicate.
      getHeaders: () => (headers ??= distinctHeaders(ctx.req.headersDistinct)),
      getUriCaptures: () => ctx.match?.uriCaptures ?? NO_CAPTURES,
      getRawBody: async () => {
        guard(REQUEST_PHASES, 'kong.request.getRawBody');
        ctx.body ??= await readBody(ctx.req, options.maxBodySize);
        return ctx.body;
      },
      getBody: async () => {
        guard(REQUEST_PHASES, 'kong.request.getBody');
        return parseBody(await this.request.getRawBody(), firstHeader(ctx.req.headers, 'content-type'));
      },
      getStartTime: () => performance.timeOrigin + ctx.startedAt,
    };

    const responseEdit = (edit: HeaderEdit, what: string) => {
      guard(BEFORE_RESPONSE, what);
      if (ctx.response) applyHeaderEdits(ctx.response.headers, [edit]);
      else (ctx.responseEdits ??= []).push(edit);
    };
    const exit = (status: number, body: ExitBody | undefined, headers: Readonly<Record<string, HeaderValue>> | undefined, what: string) => {
      guard(REQUEST_PHASES, what);
      if (!Number.isInteger(status) || status < 100 || status > 599) throw new TypeError(`${what}: invalid status ${status}`);
      ctx.exit = exitBody(status, body, headers);
    };
    this.response = {
      exit: (status, body, headers) => exit(status, body, headers, 'kong.response.exit'),
      error: (status, message, headers) =>
        exit(status, { message: message ?? defaultMessage(status), request_id: ctx.id }, headers, 'kong.response.error'),
      getStatus: () => (guard(RESPONSE_PHASES, 'kong.response.getStatus'), ctx.response?.status ?? 0),
      getSource: () => (guard(RESPONSE_PHASES, 'kong.response.getSource'), ctx.response?.source ?? 'service'),
      getHeader: (name) => (guard(RESPONSE_PHASES, 'kong.response.getHeader'), ctx.response ? firstHeader(ctx.response.headers, name) : undefined),
      getHeaders: () => (guard(RESPONSE_PHASES, 'kong.response.getHeaders'), ctx.response?.headers ?? {}),
      setStatus: (status) => {
        guard(BEFORE_RESPONSE, 'kong.response.setStatus');
        if (ctx.response) ctx.response.status = status;
      },
      setHeader: (name, value) => responseEdit({ op: 'set', name: name.toLowerCase(), value }, 'kong.response.setHeader'),
      addHeader: (name, value) => responseEdit({ op: 'add', name: name.toLowerCase(), value }, 'kong.response.addHeader'),
      clearHeader: (name) => responseEdit({ op: 'clear', name: name.toLowerCase() }, 'kong.response.clearHeader'),
    };

    const edits = () => (ctx.upstreamEdits ??= { headers: [] });
    const serviceGuard = (what: string) => guard(REQUEST_PHASES, `kong.service.request.${what}`);
    this.service = {
      request: {
        getHeader: (name) => serviceHeader(ctx, name.toLowerCase()),
        setHeader: (name, value) => (serviceGuard('setHeader'), edits().headers.push({ op: 'set', name: name.toLowerCase(), value })),
        addHeader: (name, value) => (serviceGuard('addHeader'), edits().headers.push({ op: 'add', name: name.toLowerCase(), value })),
        clearHeader: (name) => (serviceGuard('clearHeader'), edits().headers.push({ op: 'clear', name: name.toLowerCase() })),
        setMethod: (method) => (serviceGuard('setMethod'), (edits().method = method.toUpperCase())),
        setPath: (path) => {
          serviceGuard('setPath');
          if (!path.startsWith('/')) throw new TypeError('kong.service.request.setPath: the path must start with "/"');
          edits().path = path;
        },
        setRawQuery: (raw) => (serviceGuard('setRawQuery'), (edits().rawQuery = raw)),
        setQuery: (args) => (serviceGuard('setQuery'), (edits().rawQuery = encodeQuery(args))),
        setRawBody: (body) => (serviceGuard('setRawBody'), (edits().body = typeof body === 'string' ? Buffer.from(body) : body)),
        setBody: (body, contentType) => {
          serviceGuard('setBody');
          const type = contentType ?? firstHeader(ctx.req.headers, 'content-type') ?? 'application/json';
          const form = type.startsWith('application/x-www-form-urlencoded');
          edits().body = Buffer.from(form ? encodeQuery(body as Record<string, string>) : JSON.stringify(body));
          edits().headers.push({ op: 'set', name: 'content-type', value: type });
        },
      },
    };

    this.client = {
      getIp: () => ctx.clientIp,
      getForwardedIp: () => ctx.clientIp,
      getConsumer: () => ctx.consumer,
      getCredential: () => ctx.credential,
      authenticate: (consumer: Consumer | undefined, credential: Credential | undefined, opts?: { anonymous?: boolean; identifier?: string }) => {
        guard(['access'], 'kong.client.authenticate');
        if (consumer) ctx.consumer = consumer;
        else delete ctx.consumer;
        if (credential) ctx.credential = credential;
        else delete ctx.credential;
        ctx.anonymous = opts?.anonymous === true;
        if (opts?.identifier !== undefined) ctx.credentialIdentifier = opts.identifier;
        else delete ctx.credentialIdentifier;
      },
      loadConsumer: (idOrUsername, byUsername) => loadConsumer(ctx, idOrUsername, byUsername === true),
    };

    this.router = {
      getRoute: (): Route => {
        if (!ctx.match) throw new GatewayError('NO_ROUTE');
        return ctx.match.route;
      },
      getService: (): Service | undefined => ctx.match?.service,
    };

    const log = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, fields?: Record<string, unknown>) =>
      options.logger[level]({ ...fields, plugin: this.plugin, request_id: ctx.id }, message);
    this.log = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  }

  get requestId(): string {
    return this.context.id;
  }

  get ctx(): Pdk['ctx'] {
    let data = this.pluginData.get(this.plugin);
    if (!data) this.pluginData.set(this.plugin, (data = {}));
    return { shared: this.context.shared, plugin: data };
  }
}

/** The header as it will go upstream: the client's, with the edits so far applied. */
function serviceHeader(ctx: RequestContext, name: string): string | undefined {
  const client = ctx.req.headers[name];
  const headers = applyHeaderEdits(client === undefined ? {} : { [name]: client }, (ctx.upstreamEdits?.headers ?? []).filter((e) => e.name === name));
  return firstHeader(headers, name);
}

function distinctHeaders(distinct: NodeJS.Dict<string[]>): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const [name, values = []] of Object.entries(distinct)) result[name] = values.length === 1 ? (values[0] as string) : values;
  return result;
}

function loadConsumer(ctx: RequestContext, key: string, byUsername: boolean): Consumer | undefined {
  const consumers = ctx.state.snapshot.consumers;
  if (!byUsername) {
    const byId = consumers.get(key);
    if (byId) return byId;
  }
  for (const consumer of consumers.values()) if (consumer.username === key) return consumer;
  return undefined;
}

function encodeQuery(args: Readonly<Record<string, string | readonly string[]>>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(args)) {
    for (const one of typeof value === 'string' ? [value] : value) params.append(name, one);
  }
  return params.toString();
}

function defaultMessage(status: number): string {
  const messages: Record<number, string> = {
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
  return messages[status] ?? 'Error';
}
