/**
 * Small answers shared by the Admin API's channel and stream endpoints: JSON bodies and
 * Kong-shaped errors (`{message, name?, code}`) from the gateway's one error table.
 *
 * @example
 *   sendJson(res, 200, { data: [], next: null });
 *   sendAdminError(res, 'INVALID_SIZE');   // 400 {"message":"size must be …","name":"invalid size","code":"INVALID_SIZE"}
 */
import type { ServerResponse } from 'node:http';
import { GATEWAY_ERRORS, type GatewayErrorCode } from '../gateway/errors.ts';
import { isPubsubError } from '../pubsub/errors.ts';

/** Kong's db error names for the codes that have one (`kong/db/errors.lua`). */
const KONG_NAMES: Partial<Record<GatewayErrorCode, string>> = {
  NOT_FOUND: 'not found',
  INVALID_SIZE: 'invalid size',
  INVALID_OFFSET: 'invalid offset',
};

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendAdminError(res: ServerResponse, code: GatewayErrorCode, message?: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const name = KONG_NAMES[code];
  sendJson(res, GATEWAY_ERRORS[code].status, { message: message ?? GATEWAY_ERRORS[code].message, ...(name ? { name } : {}), code }, headers);
}

/** A failure of the hub/engine: 503 while shutting down (engine closed), else 500. */
export function sendHubFailure(res: ServerResponse, error: unknown): void {
  sendAdminError(res, isPubsubError(error, 'ENGINE_CLOSED') ? 'SHUTTING_DOWN' : 'INTERNAL');
}

/** The request body is never read on these endpoints: drain it so the connection stays usable. */
export function discardBody(res: ServerResponse): void {
  res.req.resume();
}

/** Decodes one URL-encoded path remainder; undefined when the encoding is malformed. */
export function decodeSegment(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

export function refuseMethod(res: ServerResponse, allow: string): true {
  discardBody(res);
  sendAdminError(res, 'METHOD_NOT_ALLOWED', undefined, { allow });
  return true;
}
