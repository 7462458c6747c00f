import type { IncomingMessage } from 'node:http';
import type { PluginExit } from '../../gateway/context.ts';
import { GatewayError } from '../../gateway/errors.ts';
import { readBoundedBody } from '../../http/read-body.ts';
import type { OutHeaders } from '../../gateway/header-edits.ts';
import type { ExitBody, HeaderValue } from './types.ts';

/** Reads a whole request body for a plugin that asked for it, within `limit` bytes (0 = none). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return readBoundedBody(req, limit, { tooLarge: () => new GatewayError('BODY_TOO_LARGE') });
}

/** JSON and urlencoded bodies as values; anything else (or malformed) as undefined. */
export function parseBody(body: Buffer, contentType: string | undefined): unknown {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/json' || type?.endsWith('+json')) {
    try {
      return JSON.parse(body.toString('utf8')) as unknown;
    } catch {
      return undefined;
    }
  }
  if (type === 'application/x-www-form-urlencoded') return parseUrlEncoded(body.toString('utf8'));
  return undefined;
}

/** A query string or form body; a repeated name keeps all its values, as Kong's tables do. */
export function parseUrlEncoded(raw: string): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(raw)) {
    const current = result[name];
    result[name] = current === undefined ? value : [...(typeof current === 'string' ? [current] : current), value];
  }
  return result;
}

/** Kong's `exit` body rules: objects become JSON; strings and buffers are sent as they are. */
export function exitBody(status: number, body: ExitBody | undefined, headers: Readonly<Record<string, HeaderValue>> = {}): PluginExit {
  const out: OutHeaders = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = typeof value === 'string' ? value : [...value];
  let bytes: Buffer;
  if (body === undefined) bytes = Buffer.alloc(0);
  else if (typeof body === 'string') {
    bytes = Buffer.from(body);
    out['content-type'] ??= 'text/plain; charset=utf-8';
  } else if (Buffer.isBuffer(body)) bytes = body;
  else {
    bytes = Buffer.from(JSON.stringify(body));
    out['content-type'] ??= 'application/json; charset=utf-8';
  }
  return { status, headers: out, body: bytes };
}
