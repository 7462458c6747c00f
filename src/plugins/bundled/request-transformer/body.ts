import type { Pdk } from '../../pdk/types.ts';
import { applyParamOps, hasOps, type ParamOps, type Params } from './params.ts';

type BodyKind = 'json' | 'form' | 'multipart';

/** Kong's get_content_type: a substring test on the lower-cased Content-Type. */
function bodyKind(contentType: string | undefined): BodyKind | undefined {
  if (contentType === undefined) return undefined;
  const lower = contentType.toLowerCase();
  if (lower.includes('application/x-www-form-urlencoded')) return 'form';
  if (lower.includes('multipart/form-data')) return 'multipart';
  if (lower.includes('application/json')) return 'json';
  return undefined;
}

function isPlainObject(value: unknown): value is Params {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Kong's transform_body for JSON objects and urlencoded forms: nothing without a Content-Type
 * Kong knows; an empty body counts as `{}` (so `add` fills it); a JSON body that is not an
 * object is left alone (Kong: unparseable JSON is left alone). multipart/form-data is not
 * supported by Sluice and passes through unchanged (logged at debug).
 */
export async function transformBody(kong: Pdk, ops: ParamOps): Promise<void> {
  if (!hasOps(ops)) return;
  const contentType = kong.service.request.getHeader('content-type');
  const kind = bodyKind(contentType);
  if (kind === undefined) return;
  if (kind === 'multipart') {
    kong.log.debug('request-transformer: multipart/form-data bodies are not transformed');
    return;
  }
  const raw = await kong.request.getRawBody();
  let params: Params;
  if (raw.length === 0) params = {};
  else {
    const parsed = await kong.request.getBody();
    if (!isPlainObject(parsed)) return;
    params = { ...parsed };
  }
  if (applyParamOps(kong, params, ops, raw.length > 0)) kong.service.request.setBody(params, contentType);
}
