import type { CompileEnv } from '../../contract.ts';
import type { Pdk } from '../../pdk/types.ts';
import { GENERATORS, type Generator } from './generators.ts';
import type { Config } from './schema.ts';

/** Kong's 100001: first of all, so every later plugin (and log) sees the id. */
export const PRIORITY = 100001;
export const VERSION = '1.0.0';

export interface Compiled {
  readonly headerName: string;
  readonly generate: Generator;
  readonly echoDownstream: boolean;
}

export function compile(config: Config, _env?: CompileEnv): Compiled {
  return { headerName: config.header_name, generate: GENERATORS[config.generator], echoDownstream: config.echo_downstream };
}

/**
 * Keeps the client's id when it sent one (a non-empty header), else generates one and sends it
 * upstream. The id is also left in `kong.ctx.shared.correlation_id` for log plugins (Kong:
 * `kong.log.set_serialize_value('correlation_id', ...)`).
 */
export function access(kong: Pdk, conf: Compiled): void {
  let id = kong.request.getHeader(conf.headerName);
  if (id === undefined || id === '') {
    id = conf.generate(kong);
    kong.service.request.setHeader(conf.headerName, id);
  }
  kong.ctx.plugin['correlation_id'] = id;
  kong.ctx.shared['correlation_id'] = id;
}

/** `echo_downstream`: the same id on the response to the client (also on plugin error answers). */
export function header_filter(kong: Pdk, conf: Compiled): void {
  if (!conf.echoDownstream) return;
  const id = kong.ctx.plugin['correlation_id'];
  if (typeof id === 'string') kong.response.setHeader(conf.headerName, id);
}
