/**
 * nchan's HTTP hooks (reference: nchan-protocol.md §1.8), as plain HTTP calls from the pub/sub
 * plugins: `nchan_authorize_request`, `nchan_subscribe_request` / `nchan_unsubscribe_request`
 * and `nchan_publisher_upstream_request`.
 *
 * nchan makes these as nginx subrequests, which carry the client's request headers; Sluice does
 * the same (minus hop-by-hop headers and `Host`) and adds what nchan configs usually set with
 * `proxy_set_header`: `X-Original-URI` (the client's request URI, query included) and
 * `X-Channel-Id` (`$nchan_channel_id`: the first id of a multiplexed request),
 * `X-Subscriber-Type` / `X-Publisher-Type` (`$nchan_subscriber_type` / `$nchan_publisher_type`),
 * and, for a publisher on the mTLS internal listener, `X-Client-Cert-Subject` /
 * `X-Client-Cert-Fingerprint` (its verified client certificate). Those names are always the
 * gateway's: a client cannot send its own (the certificate headers are dropped from every client
 * request, and only set from a certificate the handshake verified).
 *
 * Every call goes through one shared undici `Agent` (keep-alive) and has a deadline; the result
 * says whether the hook answered, was down (→ 502) or too slow (→ 504).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request } from 'undici';

/** One keep-alive pool per origin, shared by every hook of every route. */
const agent = new Agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000, connections: 128 });

/** Largest hook answer body read (an authorize denial page, a rewritten message): 8 MiB. */
export const MAX_HOOK_BODY = 8 * 1024 * 1024;

export type HookHeaders = Record<string, string | string[]>;

export interface HookCall {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly headers: HookHeaders;
  readonly body?: Buffer;
  /** Deadline for the whole exchange (connect, head and body), in ms. */
  readonly timeoutMs: number;
  /** Largest answer body accepted; larger counts as a broken hook (default {@link MAX_HOOK_BODY}). */
  readonly maxBodySize?: number;
}

/** What a hook did: answered (any status), was unreachable/broken, or missed its deadline. */
export type HookResult =
  | { readonly kind: 'answer'; readonly status: number; readonly headers: HookHeaders; readonly body: Buffer }
  | { readonly kind: 'down'; readonly error: Error }
  | { readonly kind: 'timeout' };

/** Request headers a hook must not receive from the client: hop-by-hop, and the ones undici sets. */
const NOT_FORWARDED = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'content-length',
  'http2-settings',
]);

/** Answer headers that describe the hook's connection, not its answer: never relayed to a client. */
const NOT_RELAYED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'content-length']);

/** What the hook is told about the request it is asked about. */
export interface HookContext {
  /** The client's request URI as sent (path and query). */
  readonly originalUri: string;
  /** The request's channel ids, in order (1–255). */
  readonly channels: readonly string[];
  /** Extra `X-*` headers, e.g. `{ 'x-subscriber-type': 'eventsource' }`. */
  readonly extra?: Readonly<Record<string, string>>;
  /** The client certificate the TLS handshake verified (internal listener mTLS), if any. */
  readonly clientCert?: HookClientCert;
}

/** A verified client certificate as the hook is told it (same strings as the access log). */
export interface HookClientCert {
  /** e.g. `CN=publisher-1,O=Acme` */
  readonly subject: string;
  /** SHA-256, upper-case hex pairs joined by colons. */
  readonly fingerprint: string;
}

/** Set by the gateway from the verified certificate only; a client's own are never forwarded. */
export const CLIENT_CERT_HEADERS = { subject: 'x-client-cert-subject', fingerprint: 'x-client-cert-fingerprint' } as const;
const CLIENT_CERT_HEADER_NAMES: ReadonlySet<string> = new Set(Object.values(CLIENT_CERT_HEADERS));

/**
 * The client's headers (minus hop-by-hop, `Host` and any `X-Client-Cert-*`) plus
 * `X-Original-URI`, the channel ids and, when `context.clientCert` is given, the certificate's.
 */
export function hookRequestHeaders(client: Readonly<IncomingHttpHeaders> | Readonly<Record<string, string | string[] | undefined>>, context: HookContext): HookHeaders {
  const headers: HookHeaders = {};
  for (const [name, value] of Object.entries(client)) {
    const lower = name.toLowerCase();
    if (value === undefined || NOT_FORWARDED.has(lower) || CLIENT_CERT_HEADER_NAMES.has(lower) || lower.startsWith('sec-websocket-')) continue;
    headers[lower] = typeof value === 'string' ? value : [...value];
  }
  headers['x-original-uri'] = context.originalUri;
  headers['x-channel-id'] = context.channels[0] ?? '';
  for (const [name, value] of Object.entries(context.extra ?? {})) headers[name.toLowerCase()] = value;
  if (context.clientCert) {
    headers[CLIENT_CERT_HEADERS.subject] = context.clientCert.subject;
    headers[CLIENT_CERT_HEADERS.fingerprint] = context.clientCert.fingerprint;
  }
  return headers;
}

/** A hook answer's headers as they may go back to a client (no hop-by-hop, no length). */
export function relayableHeaders(headers: HookHeaders): HookHeaders {
  const out: HookHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!NOT_RELAYED.has(name.toLowerCase())) out[name.toLowerCase()] = value;
  return out;
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Calls a hook; never throws. Redirects are not followed (a 3xx is an answer like any other). */
export async function callHook(call: HookCall): Promise<HookResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new HookTimeout()), call.timeoutMs);
  const limit = call.maxBodySize ?? MAX_HOOK_BODY;
  try {
    const answer = await request(call.url, {
      dispatcher: agent,
      method: call.method,
      headers: call.headers,
      ...(call.body !== undefined ? { body: call.body } : {}),
      signal: controller.signal,
      headersTimeout: call.timeoutMs,
      bodyTimeout: call.timeoutMs,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of answer.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        answer.body.destroy();
        return { kind: 'down', error: new Error(`hook answer larger than ${limit} bytes`) };
      }
      chunks.push(chunk);
    }
    return { kind: 'answer', status: answer.statusCode, headers: flatHeaders(answer.headers), body: Buffer.concat(chunks) };
  } catch (error) {
    if (controller.signal.aborted || TIMEOUT_CODES.has((error as { code?: string }).code ?? '')) return { kind: 'timeout' };
    return { kind: 'down', error: error instanceof Error ? error : new Error(String(error)) };
  } finally {
    clearTimeout(timer);
  }
}

/** A fire-and-forget notification (subscribe/unsubscribe): reports failures, never throws. */
export async function notifyHook(call: Omit<HookCall, 'method' | 'body'>, onFailure: (reason: string) => void): Promise<void> {
  const result = await callHook({ ...call, method: 'GET', maxBodySize: call.maxBodySize ?? 64 * 1024 });
  if (result.kind === 'timeout') onFailure(`no answer within ${call.timeoutMs} ms`);
  else if (result.kind === 'down') onFailure(result.error.message);
  else if (result.status < 200 || result.status > 299) onFailure(`answered ${result.status}`);
}

/** True for a 2xx answer: what nchan's authorize request counts as "let in". */
export function isSuccess(status: number): boolean {
  return status >= 200 && status <= 299;
}

class HookTimeout extends Error {
  override readonly name = 'HookTimeout';
  constructor() {
    super('hook timed out');
  }
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): HookHeaders {
  const out: HookHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name.toLowerCase()] = value;
  return out;
}
