import type { Pdk } from '../../pdk/types.ts';
import type { Config } from './schema.ts';

export const PRIORITY = 951;
export const VERSION = '1.0.0';

/** Kong's factors: binary units. */
const UNIT_BYTES: Readonly<Record<Config['size_unit'], number>> = { bytes: 1, kilobytes: 1024, megabytes: 1024 * 1024 };

export interface Compiled {
  readonly maxBytes: number;
  readonly requireContentLength: boolean;
}

export function compile(config: Config): Compiled {
  return { maxBytes: config.allowed_payload_size * UNIT_BYTES[config.size_unit], requireContentLength: config.require_content_length };
}

/**
 * Kong's checks. With a Content-Length the decision is made from the header alone and the body
 * is never read here. Without one (a chunked body), Kong reads the whole body and measures it;
 * so does Sluice, through `kong.request.getRawBody()` (the body is kept and forwarded from
 * there, bounded by the node's `client_max_body_size`). A request with neither header has no
 * body and passes without reading anything.
 */
export function access(kong: Pdk, conf: Compiled): void | Promise<void> {
  const declared = kong.request.getHeader('content-length');
  if (declared === undefined || declared === '') {
    if (conf.requireContentLength) {
      kong.response.error(411, 'A valid Content-Length header is required');
      return;
    }
    if (kong.request.getHeader('transfer-encoding') === undefined) return;
    return kong.request.getRawBody().then((body) => check(kong, conf, body.length));
  }
  const length = Number(declared);
  if (Number.isFinite(length)) check(kong, conf, length);
}

/** 413, or 417 when the client is waiting for `100 Continue` (Kong). */
function check(kong: Pdk, conf: Compiled, length: number): void {
  if (length <= conf.maxBytes) return;
  const expect = kong.request.getHeader('expect');
  kong.response.error(expect !== undefined && expect.trim().toLowerCase() === '100-continue' ? 417 : 413, 'Request size limit exceeded');
}
