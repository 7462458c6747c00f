import type { CompileEnv } from '../../contract.ts';
import type { Pdk } from '../../pdk/types.ts';
import { runAuthFlow, type AuthFailure } from './anonymous.ts';
import { findKey, isRecord, withoutQueryArg, type FoundKey, type KeySources } from './find-key.ts';
import { keyIndexFor, type KeyIndex } from './key-index.ts';
import type { Config } from './schema.ts';

/** Kong's key-auth: a consumer identified by an API key in a header, the query string or the body. */
export const PRIORITY = 1250;
export const VERSION = '1.0.0';
/** Re-run on open streams after a reload: a pure decision on the request (see PluginHandler.recheck). */
export const recheck = true;

export interface Compiled extends KeySources {
  readonly hideCredentials: boolean;
  readonly runOnPreflight: boolean;
  readonly anonymous: string | undefined;
  /** `WWW-Authenticate` on every 401: `Key realm="<realm>"`, `kong` when unset. */
  readonly challenge: Readonly<Record<string, string>>;
  readonly keys: KeyIndex;
}

export function compile(config: Config, env: CompileEnv): Compiled {
  return {
    keyNames: config.key_names,
    inHeader: config.key_in_header,
    inQuery: config.key_in_query,
    inBody: config.key_in_body,
    hideCredentials: config.hide_credentials,
    runOnPreflight: config.run_on_preflight,
    anonymous: config.anonymous ?? undefined,
    challenge: { 'WWW-Authenticate': `Key realm="${config.realm ?? 'kong'}"` },
    keys: keyIndexFor(env),
  };
}

/** Synchronous unless the key (or hide_credentials) needs the body: no promise per request otherwise. */
export function access(kong: Pdk, conf: Compiled): void | Promise<void> {
  if (!conf.runOnPreflight && kong.request.getMethod() === 'OPTIONS') return;
  return runAuthFlow(kong, conf.anonymous, authenticate, conf);
}

type Verdict = AuthFailure | undefined;

function authenticate(kong: Pdk, conf: Compiled): Verdict | Promise<Verdict> {
  const found = findKey(kong, conf);
  return found instanceof Promise ? found.then((key) => judge(kong, conf, key)) : judge(kong, conf, found);
}

function judge(kong: Pdk, conf: Compiled, found: FoundKey): Verdict | Promise<Verdict> {
  if (found.kind === 'duplicate') return { status: 401, message: 'Duplicate API key found', headers: conf.challenge };
  if (found.kind === 'found' && conf.hideCredentials) {
    const hidden = hideKey(kong, conf, found.name, found.body);
    if (hidden) return hidden.then(() => lookUp(kong, conf, found));
  }
  return lookUp(kong, conf, found);
}

function lookUp(kong: Pdk, conf: Compiled, found: FoundKey & { kind: 'found' | 'missing' }): Verdict {
  if (found.kind === 'missing' || found.key === '') return { status: 401, message: 'No API key found in request', headers: conf.challenge };
  const match = conf.keys.find(found.key);
  if (!match) return { status: 401, message: 'Unauthorized', headers: conf.challenge };
  kong.client.authenticate(match.consumer, match.credential);
  return undefined;
}

/**
 * `hide_credentials`: the upstream never sees the key, wherever it was sent. As in Kong, the
 * name is removed from the headers and the query, and from the body when `key_in_body` (the
 * only part that may wait: a promise then, else nothing).
 */
function hideKey(kong: Pdk, conf: Compiled, name: string, bodyRead: unknown): Promise<void> | undefined {
  kong.service.request.clearHeader(name);
  const raw = kong.request.getRawQuery();
  if (raw !== '') {
    const stripped = withoutQueryArg(raw, name);
    if (stripped !== raw) kong.service.request.setRawQuery(stripped);
  }
  if (!conf.inBody) return undefined;
  // A key found in a header is still scrubbed from the body (the body is read once and kept).
  if (bodyRead !== undefined) return void hideInBody(kong, name, bodyRead);
  return kong.request.getBody().then((body) => hideInBody(kong, name, body));
}

function hideInBody(kong: Pdk, name: string, body: unknown): void {
  if (isRecord(body) && Object.hasOwn(body, name)) {
    const { [name]: _key, ...rest } = body;
    kong.service.request.setBody(rest, kong.request.getHeader('content-type'));
  }
}
