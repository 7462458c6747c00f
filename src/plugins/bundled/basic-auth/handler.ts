import type { CompileEnv } from '../../contract.ts';
import type { Pdk } from '../../pdk/types.ts';
import { runAuthFlow, type AuthFailure } from '../key-auth/anonymous.ts';
import { basicCredentialsFor, type BasicCredentialIndex } from './credential-index.ts';
import { parseBasicAuthorization, type BasicCredentials } from './parse-header.ts';
import type { Config } from './schema.ts';

/** Kong's basic-auth: a consumer identified by username and password (RFC 7617). */
export const PRIORITY = 1100;
export const VERSION = '1.0.0';
/** Re-run on open streams after a reload: a pure decision on the request (see PluginHandler.recheck). */
export const recheck = true;

export interface Compiled {
  readonly hideCredentials: boolean;
  readonly anonymous: string | undefined;
  /** Kong 3.x answers every failure 401 "Unauthorized" with this challenge, malformed headers included. */
  readonly failure: AuthFailure;
  readonly credentials: BasicCredentialIndex;
}

export function compile(config: Config, env: CompileEnv): Compiled {
  return {
    hideCredentials: config.hide_credentials,
    anonymous: config.anonymous ?? undefined,
    failure: { status: 401, message: 'Unauthorized', headers: { 'WWW-Authenticate': `Basic realm="${config.realm}"` } },
    credentials: basicCredentialsFor(env),
  };
}

export async function access(kong: Pdk, conf: Compiled): Promise<void> {
  await runAuthFlow(kong, conf.anonymous, authenticate, conf);
}

/**
 * Kong's order: `Proxy-Authorization` first; `Authorization` when the former is absent,
 * malformed or names no known user. A known user with a wrong password is refused outright.
 */
function authenticate(kong: Pdk, conf: Compiled): AuthFailure | undefined {
  if (kong.request.getHeader('authorization') === undefined && kong.request.getHeader('proxy-authorization') === undefined) {
    return conf.failure;
  }
  let given = readHeader(kong, conf, 'proxy-authorization');
  if (!given || !conf.credentials.has(given.username)) {
    given = readHeader(kong, conf, 'authorization');
    if (!given) return conf.failure;
  }
  const match = conf.credentials.verify(given.username, given.password);
  if (!match) return conf.failure;
  kong.client.authenticate(match.consumer, match.credential, { identifier: String(match.credential.username) });
  return undefined;
}

/** The credentials in one header; with `hide_credentials` every header looked at is dropped upstream. */
function readHeader(kong: Pdk, conf: Compiled, name: string): BasicCredentials | undefined {
  const value = kong.request.getHeader(name);
  if (conf.hideCredentials) kong.service.request.clearHeader(name);
  return value === undefined ? undefined : parseBasicAuthorization(value);
}
