import type { IncomingMessage } from 'node:http';
import { readBoundedBody } from '../http/read-body.ts';
import { AdminError } from './errors.ts';

/**
 * Request bodies of the Admin API, read up to a limit and parsed by content type as Kong's
 * Admin API accepts them: JSON, `application/x-www-form-urlencoded`, `multipart/form-data`
 * (parsed by undici's `Response.formData()`), plus YAML or plain text, which only `POST /config`
 * uses. Anything else is a 415.
 *
 * ```ts
 * const body = await readBody(req, 10 * 1024 * 1024);
 * if (body.kind === 'json') use(body.value);
 * ```
 */

export type RequestBody =
  | { readonly kind: 'none' }
  | { readonly kind: 'json'; readonly value: unknown; readonly raw: string }
  | { readonly kind: 'form'; readonly fields: ReadonlyMap<string, string>; readonly raw: string }
  | { readonly kind: 'text'; readonly raw: string };

const TEXT_TYPES = new Set(['text/plain', 'text/yaml', 'text/x-yaml', 'application/yaml', 'application/x-yaml']);

/** Reads and parses the body; throws AdminError BODY_TOO_LARGE, BAD_JSON, BAD_BODY or UNSUPPORTED_MEDIA_TYPE. */
export async function readBody(req: IncomingMessage, limit: number): Promise<RequestBody> {
  const raw = await readRaw(req, limit);
  const header = req.headers['content-type'] ?? '';
  const type = header.split(';')[0]!.trim().toLowerCase();
  if (raw.length === 0) return { kind: 'none' };
  const text = raw.toString('utf8');
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      return { kind: 'json', value: JSON.parse(text) as unknown, raw: text };
    } catch (cause) {
      throw new AdminError('BAD_JSON', { cause });
    }
  }
  if (type === 'application/x-www-form-urlencoded') {
    return { kind: 'form', fields: new Map(new URLSearchParams(text)), raw: text };
  }
  if (type === 'multipart/form-data') return { kind: 'form', fields: await multipart(raw, header), raw: text };
  if (TEXT_TYPES.has(type) || type === '') return { kind: 'text', raw: text };
  throw new AdminError('UNSUPPORTED_MEDIA_TYPE');
}

/** The body bytes; over `limit` (0 = none) it is a 413 before or while reading. */
function readRaw(req: IncomingMessage, limit: number): Promise<Buffer> {
  return readBoundedBody(req, limit, {
    tooLarge: () => new AdminError('BODY_TOO_LARGE', { message: `Request size limit exceeded: the Admin API accepts bodies up to ${limit} bytes` }),
    // The client went away mid-body: nobody is left to answer, but the endpoint must not run.
    unreadable: (cause) => new AdminError('BAD_BODY', { message: 'The request body could not be read', cause }),
  });
}

async function multipart(raw: Buffer, contentType: string): Promise<Map<string, string>> {
  let form: FormData;
  try {
    form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
  } catch (cause) {
    throw new AdminError('BAD_BODY', { message: 'Cannot parse multipart/form-data body', cause });
  }
  const fields = new Map<string, string>();
  for (const [name, value] of form.entries()) fields.set(name, typeof value === 'string' ? value : await value.text());
  return fields;
}
