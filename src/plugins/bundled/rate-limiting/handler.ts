import type { CompileEnv } from '../../contract.ts';
import type { Pdk } from '../../pdk/types.ts';
import { checkConfig } from './check-config.ts';
import { clock } from './clock.ts';
import { identify } from './identifier.ts';
import type { Config, LimitBy } from './schema.ts';
import { redisConnectionOf, sharedRedisStore, stopBatchedStores } from './redis-config.ts';
import { closeRedisStores } from './redis-store.ts';
import { LocalStore, type CounterWindow, type RateLimitStore, type WindowCount } from './store.ts';
import { PERIODS, PERIOD_HEADER_NAMES, windowAt, type Period } from './windows.ts';

export const PRIORITY = 910;
export const VERSION = '1.0.0';

/**
 * The node's `local` counters, shared by every instance and kept across config reloads (as
 * Kong's shm dict is): counter keys carry the instance id, stable for the same plugin scope.
 */
export const localStore = new LocalStore();


interface Limit {
  readonly period: Period;
  readonly limit: number;
  /** `String(limit)`, made once. */
  readonly limitText: string;
  readonly limitHeader: string;
  readonly remainingHeader: string;
  /** The counter window at `now` (cached while `now` stays in it). */
  readonly windowAt: (now: number) => LimitWindow;
}

interface LimitWindow extends CounterWindow {
  readonly end: number;
}

export interface Compiled {
  readonly limits: readonly Limit[];
  readonly keyPrefix: string;
  readonly limitBy: LimitBy;
  readonly headerName: string | undefined;
  readonly path: string | undefined;
  readonly store: RateLimitStore;
  /** The same store when it can answer synchronously (local): no promise per request. */
  readonly local: LocalStore | undefined;
  readonly faultTolerant: boolean;
  readonly hideClientHeaders: boolean;
  readonly errorCode: number;
  readonly errorMessage: string;
  readonly sliding: boolean;
}

/** Closes the Redis connections of the `redis` policy when the process stops. */
export async function shutdown(): Promise<void> {
  stopBatchedStores();
  await closeRedisStores();
}

export function compile(config: Config, env?: CompileEnv): Compiled {
  checkConfig(config);
  const sliding = config.window_type === 'sliding';
  const store: RateLimitStore = config.policy === 'redis'
    ? sharedRedisStore(redisConnectionOf(config), config.sync_rate, (message) => env?.logger.warn({ plugin: 'rate-limiting', code: 'REDIS_UNAVAILABLE' }, message))
    : localStore;
  const limits: Limit[] = [];
  for (const period of PERIODS) {
    const limit = config[period];
    if (typeof limit !== 'number') continue;
    const name = PERIOD_HEADER_NAMES[period];
    limits.push({ period, limit, limitText: String(limit), limitHeader: `X-RateLimit-Limit-${name}`, remainingHeader: `X-RateLimit-Remaining-${name}`, windowAt: windowCache(period, sliding) });
  }
  return {
    limits,
    keyPrefix: `ratelimit:{${env?.instance.id ?? 'rate-limiting'}:`,
    limitBy: config.limit_by,
    headerName: config.header_name ?? undefined,
    path: config.path ?? undefined,
    store,
    local: store === localStore ? localStore : undefined,
    faultTolerant: config.fault_tolerant,
    hideClientHeaders: config.hide_client_headers,
    errorCode: config.error_code,
    errorMessage: config.error_message,
    sliding,
  };
}

/** Counter windows for one period; a sliding counter is kept through the next window, where it is the previous one. */
function windowCache(period: Period, sliding: boolean): (now: number) => LimitWindow {
  let last: LimitWindow = { start: 0, end: 0, keepUntil: 0 };
  return (now) => {
    if (now >= last.start && now < last.end) return last;
    const { start, end } = windowAt(period, now);
    last = sliding ? { start, end, keepUntil: windowAt(period, end).end, previousStart: windowAt(period, start - 1).start } : { start, end, keepUntil: end };
    return last;
  };
}

/**
 * Counts the request in every configured window at once (atomic in the store), then compares:
 * a request over any limit is refused and taken back out of the counts, so N concurrent
 * requests against a limit L let exactly L through. Kong's headers go on the response.
 */
export function access(kong: Pdk, conf: Compiled): void | Promise<void> {
  const now = clock.now();
  const identifier = identify(kong, conf.limitBy, conf.headerName, conf.path);
  const keys = new Array<string>(conf.limits.length);
  const windows = new Array<LimitWindow>(conf.limits.length);
  for (let i = 0; i < conf.limits.length; i++) {
    const limit = conf.limits[i]!;
    // `ratelimit:{<instance>:<identifier>}:<period>`: one hash tag per identifier, so on a Redis
    // Cluster all of a request's counters share a slot (whatever braces the identifier holds, the
    // tag ends at or before this `}`, inside what the keys have in common).
    keys[i] = conf.keyPrefix + identifier + '}:' + limit.period;
    windows[i] = limit.windowAt(now);
  }
  if (conf.local) {
    const counts = conf.local.incrementSync(keys, windows, now);
    const refused = decide(kong, conf, counts, windows, now);
    if (refused) conf.local.incrementSync(keys, windows, now, -1);
    return;
  }
  return conf.store.increment(keys, windows, now).then(
    async (counts) => {
      if (decide(kong, conf, counts, windows, now)) await conf.store.increment(keys, windows, now, -1).catch(() => undefined);
    },
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      // Kong: fault_tolerant logs and proxies (limiting is off meanwhile); otherwise the request fails.
      if (!conf.faultTolerant) throw err;
      kong.log.error(`failed to get usage: ${message}`);
    },
  );
}

/**
 * Kong's headers and verdict from the counts including this request. Remaining is what is
 * left after it; when it is refused, windows it did not exceed show it as not counted, as in
 * Kong. `RateLimit-*` describe the most constrained window (ties: the longer one). Returns
 * true when the request was refused.
 */
function decide(kong: Pdk, conf: Compiled, counts: readonly WindowCount[], windows: readonly LimitWindow[], now: number): boolean {
  const usage = new Array<number>(counts.length);
  let exceeded = false;
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i]!;
    const window = windows[i]!;
    usage[i] = conf.sliding && count.previous > 0 ? count.current + (count.previous * (window.end - now)) / (window.end - window.start) : count.current;
    if (usage[i]! > conf.limits[i]!.limit) exceeded = true;
  }
  if (conf.hideClientHeaders) {
    if (exceeded) kong.response.error(conf.errorCode, conf.errorMessage);
    return exceeded;
  }
  // A passing request's headers go straight onto the response; a refused one's into the error answer.
  const headers: Record<string, string> | undefined = exceeded ? {} : undefined;
  const set = (name: string, value: string) => (headers ? (headers[name] = value) : kong.response.setHeader(name, value));
  let best = -1;
  let bestRemaining = Infinity;
  for (let i = 0; i < counts.length; i++) {
    const limit = conf.limits[i]!;
    const over = usage[i]! > limit.limit;
    const counted = exceeded && !over ? usage[i]! - 1 : usage[i]!;
    const remaining = over ? 0 : Math.max(0, Math.floor(limit.limit - counted));
    set(limit.limitHeader, limit.limitText);
    set(limit.remainingHeader, String(remaining));
    if (remaining <= bestRemaining) {
      best = i;
      bestRemaining = remaining;
    }
  }
  const reset = String(Math.max(1, Math.ceil((windows[best]!.end - now) / 1000)));
  set('RateLimit-Limit', conf.limits[best]!.limitText);
  set('RateLimit-Remaining', String(bestRemaining));
  set('RateLimit-Reset', reset);
  if (!headers) return false;
  headers['Retry-After'] = reset;
  kong.response.error(conf.errorCode, conf.errorMessage, headers);
  return true;
}
