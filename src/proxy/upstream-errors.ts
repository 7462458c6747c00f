import { GatewayError } from '../gateway/errors.ts';

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'EAI_NODATA']);

/** Maps what undici / the socket reported to the gateway's error table. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  const code = errorCode(error) ?? errorCode((error as { cause?: unknown } | null)?.cause);
  const detail = error instanceof Error ? error.message : String(error);
  if (code !== undefined && TIMEOUT_CODES.has(code)) return new GatewayError('UPSTREAM_TIMEOUT', { detail, cause: error });
  if (code !== undefined && DNS_CODES.has(code)) return new GatewayError('NAME_RESOLUTION_FAILED', { detail, cause: error });
  return new GatewayError('UPSTREAM_UNAVAILABLE', { detail, cause: error });
}
