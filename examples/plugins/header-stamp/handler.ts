import type { Pdk } from '../../../src/plugins/pdk/types.ts';
import type { Config } from './schema.ts';

/**
 * An example custom plugin, loaded with
 * `SLUICE_PLUGINS=bundled,header-stamp SLUICE_PLUGINS_PATH=examples/plugins`.
 * It stamps a header on the way in and out, and can insist on a request header.
 */
export const PRIORITY = 700;
export const VERSION = '1.0.0';

interface Compiled {
  readonly header: string;
  readonly value: string;
  readonly required?: string;
}

/** Runs once per config snapshot: lower-case names here, not on every request. */
export function compile(config: Config): Compiled {
  return { header: config.header_name.toLowerCase(), value: config.value, ...(config.required_header ? { required: config.required_header.toLowerCase() } : {}) };
}

export function access(kong: Pdk, conf: Compiled): void {
  if (conf.required && kong.request.getHeader(conf.required) === undefined) {
    return kong.response.error(400, `missing header ${conf.required}`);
  }
  kong.service.request.setHeader(conf.header, conf.value);
}

export function header_filter(kong: Pdk, conf: Compiled): void {
  kong.response.setHeader(conf.header, conf.value);
}
