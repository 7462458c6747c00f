import type { CompileEnv } from '../../contract.ts';
import type { Pdk } from '../../pdk/types.ts';
import { checkConfig } from './check-config.ts';
import { clock } from './clock.ts';
import { identify } from './identifier.ts';
import type { Config, LimitBy } from './schema.ts';
import { redisConnectionOf, sharedRedisStore, stopBatchedStores } from './redis-config.ts';
import { closeRedisStores } from './redis-store.ts';
import { LocalStore, type CounterWindow, type CountsOut, type RateLimitStore, type WindowCount } from './store.ts';
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
  /** The period's index in PERIODS: its counter's slot in the local store. */
  readonly slot: number;
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
  /**
   * The store again when it is the local one: counted synchronously, with no promise and no key
   * string per request (in the scope named by `keyPrefix`, see LocalStore.incrementFor).
   */
  readonly local: LocalStore | undefined;
  /** `limits[i].slot`, as the local store takes them. */
  readonly slots: readonly number[];
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
    limits.push({
      period,
      slot: PERIODS.indexOf(period),
      limit,
      limitText: String(limit),
      limitHeader: `X-RateLimit-Limit-${name}`,
      remainingHeader: `X-RateLimit-Remaining-${name}`,
      windowAt: windowCache(period, sliding),
    });
  }
  const keyPrefix = `ratelimit:{${env?.instance.id ?? 'rate-limiting'}:`;
  return {
    limits,
    keyPrefix,
    limitBy: config.limit_by,
    headerName: config.header_name ?? undefined,
    path: config.path ?? undefined,
    store,
    local: store === localStore ? localStore : undefined,
    slots: limits.map((l) => l.slot),
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
 * The local path's counts: written by the store, read by `decide` before anything else runs
 * (everything from the count to the headers is synchronous), so one pair serves every request.
 */
const localCounts: CountsOut = { current: [], previous: [] };

/**
 * Counts the request in every configured window at once (atomic in the store), then compares:
 * a request over any limit is refused and taken back out of the counts, so N concurrent
 * requests against a limit L let exactly L through. Kong's headers go on the response.
 */
export function access(kong: Pdk, conf: Compiled): void | Promise<void> {
  const now = clock.now();
  const identifier = identify(kong, conf.limitBy, conf.headerName, conf.path);
  const limits = conf.limits;
  const windows = new Array<LimitWindow>(limits.length);
  for (let i = 0; i < limits.length; i++) windows[i] = limits[i]!.windowAt(now);
  const local = conf.local;
  if (local) {
    // Scoped by the key prefix, which names the instance as it does in the other stores' keys.
    local.incrementFor(conf.keyPrefix, identifier, conf.slots, windows, now, 1, localCounts);
    if (decide(kong, conf, localCounts, windows, now)) local.incrementFor(conf.keyPrefix, identifier, conf.slots, windows, now, -1, localCounts);
    return;
  }
  // `ratelimit:{<instance>:<identifier>}:<period>`: one hash tag per identifier, so on a Redis
  // Cluster all of a request's counters share a slot (whatever braces the identifier holds, the
  // tag ends at or before this `}`, inside what the keys have in common).
  const keys = limits.map((limit) => conf.keyPrefix + identifier + '}:' + limit.period);
  return conf.store.increment(keys, windows, now).then(
    async (counts) => {
      if (decide(kong, conf, countsOf(counts), windows, now)) await conf.store.increment(keys, windows, now, -1).catch(() => undefined);
    },
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      // Kong: fault_tolerant logs and proxies (limiting is off meanwhile); otherwise the request fails.
      if (!conf.faultTolerant) throw err;
      kong.log.error(`failed to get usage: ${message}`);
    },
  );
}

function countsOf(counts: readonly WindowCount[]): CountsOut {
  return { current: counts.map((c) => c.current), previous: counts.map((c) => c.previous) };
}

/** What window `i` counts, this request included; a sliding window adds the previous one's share. */
function usageOf(conf: Compiled, counts: CountsOut, window: LimitWindow, i: number, now: number): number {
  const current = counts.current[i]!;
  const previous = counts.previous[i]!;
  return conf.sliding && previous > 0 ? current + (previous * (window.end - now)) / (window.end - window.start) : current;
}

/**
 * Kong's headers and verdict from the counts including this request. Remaining is what is
 * left after it; when it is refused, windows it did not exceed show it as not counted, as in
 * Kong. `RateLimit-*` describe the most constrained window (ties: the longer one). Returns
 * true when the request was refused.
 */
function decide(kong: Pdk, conf: Compiled, counts: CountsOut, windows: readonly LimitWindow[], now: number): boolean {
  const limits = conf.limits;
  let exceeded = false;
  for (let i = 0; i < limits.length; i++) if (usageOf(conf, counts, windows[i]!, i, now) > limits[i]!.limit) exceeded = true;
  if (conf.hideClientHeaders) {
    if (exceeded) kong.response.error(conf.errorCode, conf.errorMessage);
    return exceeded;
  }
  // A passing request's headers go straight onto the response; a refused one's into the error answer.
  const headers: Record<string, string> | undefined = exceeded ? {} : undefined;
  let best = -1;
  let bestRemaining = Infinity;
  let bestRemainingText = '';
  for (let i = 0; i < limits.length; i++) {
    const limit = limits[i]!;
    const usage = usageOf(conf, counts, windows[i]!, i, now);
    const over = usage > limit.limit;
    const counted = exceeded && !over ? usage - 1 : usage;
    const remaining = over ? 0 : Math.max(0, Math.floor(limit.limit - counted));
    const remainingText = String(remaining);
    put(kong, headers, limit.limitHeader, limit.limitText);
    put(kong, headers, limit.remainingHeader, remainingText);
    if (remaining <= bestRemaining) {
      best = i;
      bestRemaining = remaining;
      bestRemainingText = remainingText;
    }
  }
  const reset = String(Math.max(1, Math.ceil((windows[best]!.end - now) / 1000)));
  put(kong, headers, 'RateLimit-Limit', limits[best]!.limitText);
  put(kong, headers, 'RateLimit-Remaining', bestRemainingText);
  put(kong, headers, 'RateLimit-Reset', reset);
  if (!headers) return false;
  headers['Retry-After'] = reset;
  kong.response.error(conf.errorCode, conf.errorMessage, headers);
  return true;
}

/** One header: onto the response, or into the refusal's headers when there are some. */
function put(kong: Pdk, headers: Record<string, string> | undefined, name: string, value: string): void {
  if (headers) headers[name] = value;
  else kong.response.setHeader(name, value);
}
