import type { Service, Upstream } from '../config/types.ts';

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1 plus the legacy ones nginx and Kong drop). They describe
 * one connection, never the message, so a proxy must not forward them in either direction.
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Request headers the gateway consumes itself and must not pass on: Node answers
 * `Expect: 100-continue` for us, and `Forwarded`-style X-Forwarded-* from an untrusted peer
 * are replaced (see {@link upstreamRequestHeaders}). `expect` also makes undici throw.
 */
const CONSUMED_REQUEST = new Set(['expect', 'host']);

const FORWARDED = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-path',
  'x-forwarded-prefix',
  'x-real-ip',
]);

/** Client headers never copied upstream as they are: hop-by-hop, consumed, or rebuilt here. */
const NOT_COPIED_UPSTREAM: ReadonlySet<string> = new Set([...HOP_BY_HOP, ...CONSUMED_REQUEST, ...FORWARDED]);

/**
 * Kong's identity headers, which only the gateway may set once plugins ran (from what the auth
 * plugins established): a client's own values never reach the upstream then.
 */
const CONSUMER_IDENTITY_HEADERS: readonly string[] = [
  'x-consumer-id',
  'x-consumer-username',
  'x-consumer-custom-id',
  'x-credential-identifier',
  'x-anonymous-consumer',
  'x-consumer-groups',
];

/** The same with the identity headers: left out while copying rather than deleted afterwards. */
const NOT_COPIED_WITH_PLUGINS: ReadonlySet<string> = new Set([...NOT_COPIED_UPSTREAM, ...CONSUMER_IDENTITY_HEADERS]);

type RawHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;
type OutHeaders = Record<string, string | string[]>;

export interface UpstreamHeaderInput {
  /** The client's headers as Node parsed them (lower-case names). */
  readonly headers: RawHeaders;
  /** Address of the TCP peer (may be a proxy in front of us). */
  readonly peerIp: string;
  /** Whether the peer is in `trusted_ips`; decides whether its X-Forwarded-* are believed. */
  readonly peerTrusted: boolean;
  /** Client address after real-IP resolution (see `resolveClientIp`). */
  readonly clientIp: string;
  /** Scheme the client used on our listener. */
  readonly scheme: 'http' | 'https';
  /** Port of the listener that accepted the request. */
  readonly listenerPort: number;
  /** The request path as received (normalized, before strip_path), without query. */
  readonly path: string;
  /** The prefix strip_path removed, when it removed one. */
  readonly strippedPrefix?: string;
  readonly preserveHost: boolean;
  readonly service: Service;
  readonly upstream?: Upstream;
  /** A WebSocket upgrade: keep `Upgrade` and `Connection: Upgrade`. */
  readonly upgrade?: boolean;
  /** Plugins ran: the client's {@link CONSUMER_IDENTITY_HEADERS} are not copied (the gateway sets its own). */
  readonly dropIdentity?: boolean;
}

function first(value: string | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value[0];
}

function joined(value: string | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(', ');
}

/**
 * Parsed Connection values by raw text. Nearly every message carries one of a few values
 * (`keep-alive`, `close`), so caching skips a split/trim/lower-case per message; the size cap
 * keeps clients that send odd values from growing it.
 */
const connectionTokenCache = new Map<string, ReadonlySet<string> | undefined>();
const CONNECTION_TOKEN_CACHE_MAX = 64;

function parseConnectionTokens(text: string): ReadonlySet<string> | undefined {
  if (text === '') return undefined;
  const tokens = new Set<string>();
  for (const token of text.split(',')) {
    const name = token.trim().toLowerCase();
    if (name !== '') tokens.add(name);
  }
  return tokens;
}

/** Header names listed in a Connection header (they are hop-by-hop for this message). */
function connectionTokens(value: string | readonly string[] | undefined): ReadonlySet<string> | undefined {
  const text = joined(value);
  if (text === undefined) return undefined;
  if (connectionTokenCache.has(text)) return connectionTokenCache.get(text);
  const tokens = parseConnectionTokens(text);
  if (connectionTokenCache.size < CONNECTION_TOKEN_CACHE_MAX) connectionTokenCache.set(text, tokens);
  return tokens;
}

/** The Host header the service expects when the client's is not preserved (Kong's rule). */
export function serviceHostHeader(service: Service, upstream?: Upstream): string {
  if (upstream?.host_header) return upstream.host_header;
  const defaultPort = service.protocol === 'https' || service.protocol === 'wss' || service.protocol === 'grpcs' ? 443 : 80;
  return service.port === defaultPort ? service.host : `${service.host}:${service.port}`;
}

/** Host header without its port (IPv6 literal brackets kept). */
function hostWithoutPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end < 0 ? host : host.slice(0, end + 1);
  }
  const colon = host.lastIndexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}

/**
 * Builds the headers sent upstream from the client's: hop-by-hop (and whatever Connection
 * lists) removed, Host per `preserve_host`, and Kong's forwarded set. A trusted peer's
 * X-Forwarded-* survive (it is a proxy telling us about the original client), X-Forwarded-For
 * gets the peer appended; an untrusted peer's claims are discarded and replaced by what we saw.
 */
export function upstreamRequestHeaders(input: UpstreamHeaderInput): OutHeaders {
  const source = input.headers;
  const dropped = connectionTokens(source.connection);
  const notCopied = input.dropIdentity === true ? NOT_COPIED_WITH_PLUGINS : NOT_COPIED_UPSTREAM;
  const out: OutHeaders = {};
  for (const name in source) {
    const value = source[name];
    if (value === undefined) continue;
    if (notCopied.has(name)) continue;
    if (dropped?.has(name)) continue;
    out[name] = typeof value === 'string' ? value : [...value];
  }

  if (input.upgrade) {
    const upgrade = first(source.upgrade);
    if (upgrade !== undefined) {
      out.upgrade = upgrade;
      out.connection = 'Upgrade';
    }
  }

  const clientHost = first(source.host) ?? '';
  out.host = input.preserveHost && clientHost !== '' ? clientHost : serviceHostHeader(input.service, input.upstream);

  const trusted = input.peerTrusted;
  const incomingXff = trusted ? joined(source['x-forwarded-for']) : undefined;
  out['x-forwarded-for'] = incomingXff ? `${incomingXff}, ${input.peerIp}` : input.peerIp;
  out['x-forwarded-proto'] = (trusted && first(source['x-forwarded-proto'])) || input.scheme;
  out['x-forwarded-host'] = (trusted && first(source['x-forwarded-host'])) || hostWithoutPort(clientHost);
  out['x-forwarded-port'] = (trusted && first(source['x-forwarded-port'])) || String(input.listenerPort);
  out['x-forwarded-path'] = (trusted && first(source['x-forwarded-path'])) || input.path;
  const prefix = (trusted && first(source['x-forwarded-prefix'])) || input.strippedPrefix;
  if (prefix && prefix !== '/') out['x-forwarded-prefix'] = prefix;
  out['x-real-ip'] = input.clientIp;
  return out;
}

export interface DownstreamHeaderOptions {
  /** Appended as a `Via` entry, e.g. `1.1 sluice/0.1.0`; omitted when undefined. */
  readonly via?: string;
}

/**
 * The upstream response's headers as they may go to the client: hop-by-hop and whatever the
 * upstream's Connection lists removed (Node frames the body itself), plus our `Via` entry.
 */
export function downstreamResponseHeaders(upstreamHeaders: RawHeaders, options: DownstreamHeaderOptions = {}): OutHeaders {
  const dropped = connectionTokens(upstreamHeaders.connection);
  const out: OutHeaders = {};
  for (const name in upstreamHeaders) {
    const value = upstreamHeaders[name];
    if (value === undefined || HOP_BY_HOP.has(name) || dropped?.has(name)) continue;
    out[name] = typeof value === 'string' ? value : [...value];
  }
  if (options.via !== undefined) {
    const existing = joined(out.via);
    out.via = existing ? `${existing}, ${options.via}` : options.via;
  }
  return out;
}

/** A header list as `writeHead` takes it: name, value, name, value, ... */
export type HeaderList = (string | string[])[];

/**
 * {@link downstreamResponseHeaders} as the flat list `writeHead` accepts, which is cheaper to
 * build than an object keyed by arbitrary names. Names in `replaced` are left out so the
 * caller can append its own value for them.
 */
export function downstreamResponseHeaderList(upstreamHeaders: RawHeaders, via: string, replaced: ReadonlySet<string>): HeaderList {
  const dropped = connectionTokens(upstreamHeaders.connection);
  const out: HeaderList = [];
  let existingVia: string | undefined;
  for (const name in upstreamHeaders) {
    const value = upstreamHeaders[name];
    if (value === undefined || HOP_BY_HOP.has(name) || dropped?.has(name) || replaced.has(name)) continue;
    if (name === 'via') existingVia = joined(value);
    else out.push(name, typeof value === 'string' ? value : [...value]);
  }
  out.push('via', existingVia ? `${existingVia}, ${via}` : via);
  return out;
}
