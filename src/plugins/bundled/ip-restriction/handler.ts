import type { CompileEnv } from '../../contract.ts';
import type { Pdk } from '../../pdk/types.ts';
import { compileIpMatcher, parseIp, type IpMatcher } from './ip-matcher.ts';
import type { Config } from './schema.ts';

/** Kong's 990: after authentication, so a consumer-scoped instance can apply. */
export const PRIORITY = 990;
export const VERSION = '1.0.0';
/** Re-run on open streams after a reload: a pure decision on the request (see PluginHandler.recheck). */
export const recheck = true;

export interface Compiled {
  readonly allow: IpMatcher | undefined;
  readonly deny: IpMatcher | undefined;
  readonly status: number;
  readonly message: string;
}

/** Kong's `at_least_one_of` check and `ip_or_cidr` validation; matchers built once. */
export function compile(config: Config, _env?: CompileEnv): Compiled {
  const allow = config.allow ?? [];
  const deny = config.deny ?? [];
  if (allow.length === 0 && deny.length === 0) {
    throw new Error("at least one of these fields must be non-empty: 'config.allow', 'config.deny'");
  }
  return {
    allow: allow.length > 0 ? compileIpMatcher(allow) : undefined,
    deny: deny.length > 0 ? compileIpMatcher(deny) : undefined,
    status: config.status ?? 403,
    message: config.message ?? 'Your IP address is not allowed',
  };
}

/**
 * Kong's order: a denied address is refused even when also allowed; with an allow list, an
 * address outside it is refused. The address is the client's after `trusted_ips`.
 */
export function access(kong: Pdk, conf: Compiled): void {
  const ip = parseIp(kong.client.getIp());
  if (ip === undefined) {
    kong.response.error(403, 'Cannot identify the client IP address, unix domain sockets are not supported.');
    return;
  }
  if ((conf.deny && conf.deny.contains(ip)) || (conf.allow && !conf.allow.contains(ip))) {
    kong.response.error(conf.status, conf.message);
  }
}
