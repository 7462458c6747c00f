import type { HeaderValue, Pdk } from '../../pdk/types.ts';

/** Why an auth plugin refused the request: what Kong answers when no `anonymous` is configured. */
export interface AuthFailure {
  readonly status: number;
  readonly message: string;
  readonly headers?: Readonly<Record<string, HeaderValue>>;
}

/**
 * Kong's two auth flows, shared by the auth plugins. Without `anonymous` a failure answers the
 * client ("logical AND": every auth plugin on the route must pass). With `anonymous` a request
 * another auth plugin already authenticated is left alone, and a failure authenticates as the
 * anonymous consumer instead ("logical OR": any one plugin suffices; a later acl or
 * request-termination on the anonymous consumer decides what it may do).
 */
export function runAuthFlow<C>(
  kong: Pdk,
  anonymous: string | null | undefined,
  authenticate: (kong: Pdk, conf: C) => AuthFailure | undefined | Promise<AuthFailure | undefined>,
  conf: C,
): void | Promise<void> {
  if (anonymous && kong.client.getCredential()) return;
  // Synchronous when `authenticate` is: an auth plugin that needs no body costs no promise (and,
  // called with its arguments rather than as a closure over them, no function object either).
  const failure = authenticate(kong, conf);
  if (failure instanceof Promise) return failure.then((late) => settle(kong, anonymous, late));
  settle(kong, anonymous, failure);
}

function settle(kong: Pdk, anonymous: string | null | undefined, failure: AuthFailure | undefined): void {
  if (!failure) return;
  if (anonymous) authenticateAnonymous(kong, anonymous);
  else kong.response.error(failure.status, failure.message, failure.headers);
}

/** Authenticates as the configured anonymous consumer (id, or username); 500 when it does not exist, as Kong. */
export function authenticateAnonymous(kong: Pdk, anonymous: string): void {
  const consumer = kong.client.loadConsumer(anonymous, true);
  if (!consumer) {
    const message = `anonymous consumer ${anonymous} is configured but doesn't exist`;
    kong.log.error(message);
    kong.response.error(500, message);
    return;
  }
  kong.client.authenticate(consumer, undefined, { anonymous: true });
}
