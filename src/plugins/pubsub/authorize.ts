/**
 * nchan_authorize_request for both pub/sub plugins: a GET to the app before a subscriber or a
 * publisher is let in (reference: nchan-protocol.md §1.8).
 *
 * @example
 *   // in a plugin's access phase, headers from hookRequestHeaders()
 *   if (conf.authorize && !(await authorizeRequest(kong, conf.authorize, headers, 'pubsub-publisher'))) return;
 */
import { callHook, isSuccess, relayableHeaders, type HookHeaders } from '../../pubsub/hooks.ts';
import type { Pdk } from '../pdk/types.ts';

export interface AuthorizeHook {
  readonly url: string;
  readonly timeoutMs: number;
}

/** The compiled hook from a plugin config's `authorize_url` / `authorize_timeout`, if set. */
export function authorizeHook(config: { readonly authorize_url?: string; readonly authorize_timeout: number }): { authorize?: AuthorizeHook } {
  return config.authorize_url === undefined ? {} : { authorize: { url: config.authorize_url, timeoutMs: config.authorize_timeout } };
}

/**
 * What a refused request gets, as in nchan: a subscriber the hook's own status, headers and body;
 * a publisher 403 whatever the hook said.
 */
export type Refusal = 'relay' | 'forbidden';

/**
 * Asks the hook. True on a 2xx answer; otherwise the request's answer is already set and the
 * caller returns: the refusal (see `Refusal`), 502 when the hook cannot be reached, 504 past
 * its deadline.
 */
export async function authorizeRequest(kong: Pdk, hook: AuthorizeHook, headers: HookHeaders, plugin: string, refusal: Refusal): Promise<boolean> {
  const result = await callHook({ url: hook.url, method: 'GET', headers, timeoutMs: hook.timeoutMs });
  if (result.kind === 'timeout') {
    kong.response.error(504, 'The authorize request timed out');
    return false;
  }
  if (result.kind === 'down') {
    kong.log.warn(`${plugin}: authorize request failed`, { url: hook.url, error: result.error.message });
    kong.response.error(502, 'The authorize request failed');
    return false;
  }
  if (isSuccess(result.status)) return true;
  if (refusal === 'forbidden') kong.response.error(403, 'Forbidden');
  else kong.response.exit(result.status, result.body, relayableHeaders(result.headers));
  return false;
}
