import { GatewayError } from '../gateway/errors.ts';
import { tlsGatewayError } from './upstream-tls.ts';

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
  const cause = (error as { cause?: unknown } | null)?.cause;
  const code = errorCode(error) ?? errorCode(cause);
  const detail = error instanceof Error ? error.message : String(error);
  if (code !== undefined && TIMEOUT_CODES.has(code)) return new GatewayError('UPSTREAM_TIMEOUT', { detail, cause: error });
  if (code !== undefined && DNS_CODES.has(code)) return new GatewayError('NAME_RESOLUTION_FAILED', { detail, cause: error });
  // undici may wrap the socket's TLS error (a SocketError whose cause carries OpenSSL's code).
  const tls = (code !== undefined ? tlsGatewayError(code, error) : undefined) ?? tlsGatewayError(errorCode(cause) ?? '', cause);
  if (tls !== undefined) return tls;
  return new GatewayError('UPSTREAM_UNAVAILABLE', { detail, cause: error });
}
