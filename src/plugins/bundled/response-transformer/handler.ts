import { gunzipSync, gzipSync } from 'node:zlib';
import type { CompileEnv } from '../../contract.ts';
import type { HeaderValue, Pdk } from '../../pdk/types.ts';
import { castValue, transformJson, type JsonEntry, type JsonOps } from './json-body.ts';
import type { Config } from './schema.ts';

/** Kong's 800: right after request-transformer. */
export const PRIORITY = 800;
export const VERSION = '1.0.0';

interface HeaderEntry {
  readonly name: string;
  readonly value: string;
}

export interface Compiled {
  readonly headers: {
    readonly remove: readonly string[];
    readonly rename: readonly HeaderEntry[];
    readonly replace: readonly HeaderEntry[];
    readonly add: readonly HeaderEntry[];
    readonly append: readonly HeaderEntry[];
  };
  /** Undefined when no json operation is configured: the body is never touched. */
  readonly json: JsonOps | undefined;
}

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** Kong's split: name up to the first colon, further colons before the value skipped. */
function split(entry: string): { name: string; value: string } {
  const colon = entry.indexOf(':');
  if (colon === -1) return { name: entry, value: '' };
  let start = colon + 1;
  while (entry[start] === ':') start += 1;
  return { name: entry.slice(0, colon), value: entry.slice(start) };
}

function headerEntries(entries: readonly string[], field: string, valueIsHeader = false): HeaderEntry[] {
  const out: HeaderEntry[] = [];
  entries.forEach((entry, i) => {
    const { name, value } = split(entry);
    if (!HEADER_NAME.test(name)) throw new Error(`${field}[${i}]: '${name}' is not a valid header`);
    if (valueIsHeader && !HEADER_NAME.test(value)) throw new Error(`${field}[${i}]: '${value}' is not a valid header`);
    // Kong renders an empty value as nil, which makes add/replace/append a no-op.
    if (value !== '') out.push({ name, value });
  });
  return out;
}

function jsonEntries(entries: readonly string[], types: readonly string[]): JsonEntry[] {
  const out: JsonEntry[] = [];
  entries.forEach((entry, i) => {
    const { name, value } = split(entry);
    const cast = castValue(value, types[i]);
    if (cast.ok) out.push({ name, value: cast.value });
  });
  return out;
}

export function compile(config: Config, _env?: CompileEnv): Compiled {
  const hasJson = [config.remove, config.rename, config.replace, config.add, config.append].some((r) => r.json.length > 0);
  return {
    headers: {
      remove: config.remove.headers.map((entry) => split(entry).name),
      rename: headerEntries(config.rename.headers, 'rename.headers', true),
      replace: headerEntries(config.replace.headers, 'replace.headers'),
      add: headerEntries(config.add.headers, 'add.headers'),
      append: headerEntries(config.append.headers, 'append.headers'),
    },
    json: hasJson
      ? {
          remove: config.remove.json.map((entry) => split(entry).name),
          rename: config.rename.json
            .map((entry) => split(entry))
            .filter((e) => e.value !== '')
            .map((e) => ({ name: e.name, to: e.value })),
          replace: jsonEntries(config.replace.json, config.replace.json_types),
          add: jsonEntries(config.add.json, config.add.json_types),
          append: jsonEntries(config.append.json, config.append.json_types),
        }
      : undefined,
  };
}

/** ctx.plugin key: the chunks of a JSON body being buffered, and whether it is gzipped. */
const BUFFER = 'json_body';
interface Buffered {
  readonly chunks: Buffer[];
  readonly gzip: boolean;
}

/**
 * Headers: remove, rename, replace (existing only), add (missing only), append. When the body
 * will be rewritten — a json operation is configured, the response is `application/json` and
 * either identity or gzip encoded — Content-Length goes (the new length is unknown yet) and
 * body_filter buffers. Anything else, SSE included, streams through untouched.
 */
export function header_filter(kong: Pdk, conf: Compiled): void {
  const { headers } = conf;
  const response = kong.response;
  for (const name of headers.remove) response.clearHeader(name);
  for (const { name, value: to } of headers.rename) {
    const current = allValues(response.getHeaders(), name);
    if (current === undefined || to.toLowerCase() === name.toLowerCase()) continue;
    response.clearHeader(name);
    response.setHeader(to, current);
  }
  for (const { name, value } of headers.replace) if (response.getHeader(name) !== undefined) response.setHeader(name, value);
  for (const { name, value } of headers.add) if (response.getHeader(name) === undefined) response.setHeader(name, value);
  for (const { name, value } of headers.append) response.addHeader(name, value);

  if (conf.json === undefined) return;
  const contentType = response.getHeader('content-type');
  if (contentType === undefined || !contentType.toLowerCase().includes('application/json')) return;
  const encoding = (response.getHeader('content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip') return;
  response.clearHeader('content-length');
  const buffered: Buffered = { chunks: [], gzip: encoding === 'gzip' };
  kong.ctx.plugin[BUFFER] = buffered;
}

/** A header's value(s), whatever the case of the keys. */
function allValues(headers: Readonly<Record<string, HeaderValue>>, name: string): HeaderValue | undefined {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

const EMPTY = Buffer.alloc(0);

/** Buffers the JSON body until eof, then sends it transformed (or unchanged if it is not a JSON object). */
export function body_filter(kong: Pdk, conf: Compiled, chunk: Buffer, eof: boolean): Buffer {
  const buffered = kong.ctx.plugin[BUFFER] as Buffered | undefined;
  if (buffered === undefined || conf.json === undefined) return chunk;
  if (chunk.length > 0) buffered.chunks.push(chunk);
  if (!eof) return EMPTY;
  const body = Buffer.concat(buffered.chunks);
  buffered.chunks.length = 0;
  if (body.length === 0) return body;
  try {
    const text = (buffered.gzip ? gunzipSync(body) : body).toString('utf8');
    const transformed = transformJson(text, conf.json);
    if (transformed === undefined) {
      kong.log.warn('response-transformer: body transform failed: not a JSON object');
      return body;
    }
    return buffered.gzip ? gzipSync(transformed) : Buffer.from(transformed);
  } catch (err) {
    kong.log.warn('response-transformer: body transform failed', { error: (err as Error).message });
    return body;
  }
}
