import type { Route, Service } from '../../config/types.ts';
import type { RequestContext } from '../../gateway/context.ts';
import { GatewayError } from '../../gateway/errors.ts';
import type { Logger } from '../../observability/logger.ts';
import type { PluginPhase } from '../contract.ts';
import { ClientApi } from './client-api.ts';
import { RequestApi, type PdkScope } from './request-api.ts';
import { ResponseApi } from './response-api.ts';
import { ServiceRequestApi } from './service-request-api.ts';
import type { Pdk, PdkLog, PdkRouter } from './types.ts';

export interface PdkOptions {
  readonly logger: Logger;
  /** `client_max_body_size` in bytes; 0 = unlimited. */
  readonly maxBodySize: number;
}

/**
 * The PDK of one request. One object serves every plugin and phase of the request: the runner
 * sets `phase` and `plugin` before each call. Its parts are small classes whose methods live
 * on prototypes, so building a PDK costs a handful of allocations, not a closure per function.
 */
export class RequestPdk implements Pdk, PdkScope, PdkRouter {
  phase: PluginPhase = 'rewrite';
  /** Name of the plugin being run (for `ctx.plugin` and log fields). */
  plugin = '';
  readonly maxBodySize: number;
  readonly request: RequestApi;
  readonly response: ResponseApi;
  readonly client: ClientApi;
  private readonly logger: Logger;
  // `kong.service` and `kong.log` are made on first use: most requests' plugins never touch them.
  private serviceApi: { readonly request: ServiceRequestApi } | undefined;
  private logApi: PdkLog | undefined;
  private pluginData: Map<string, Record<string, unknown>> | undefined;

  constructor(
    readonly context: RequestContext,
    options: PdkOptions,
  ) {
    this.maxBodySize = options.maxBodySize;
    this.logger = options.logger;
    this.request = new RequestApi(this);
    this.response = new ResponseApi(this);
    this.client = new ClientApi(this);
  }

  get service(): { readonly request: ServiceRequestApi } {
    return (this.serviceApi ??= { request: new ServiceRequestApi(this) });
  }

  get log(): PdkLog {
    return (this.logApi ??= new PluginLog(this, this.logger));
  }

  get router(): PdkRouter {
    return this;
  }

  getRoute(): Route {
    if (!this.context.match) throw new GatewayError('NO_ROUTE');
    return this.context.match.route;
  }

  getService(): Service | undefined {
    return this.context.match?.service;
  }

  get requestId(): string {
    return this.context.id;
  }

  get ctx(): Pdk['ctx'] {
    this.pluginData ??= new Map();
    let data = this.pluginData.get(this.plugin);
    if (!data) this.pluginData.set(this.plugin, (data = {}));
    return { shared: this.context.shared, plugin: data };
  }
}

/** `kong.log`: the process logger, with the plugin and request id on every line. */
class PluginLog implements PdkLog {
  constructor(
    private readonly scope: PdkScope,
    private readonly logger: Logger,
  ) {}

  debug(message: string, fields?: Record<string, unknown>): void {
    this.logger.debug(this.fields(fields), message);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.logger.info(this.fields(fields), message);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.logger.warn(this.fields(fields), message);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.logger.error(this.fields(fields), message);
  }

  private fields(fields: Record<string, unknown> | undefined): Record<string, unknown> {
    return { ...fields, plugin: this.scope.plugin, request_id: this.scope.context.id };
  }
}
