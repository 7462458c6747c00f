/**
 * The one Lua script the `redis` policy runs per call, standalone or on a Redis Cluster: it
 * counts (or takes back) a request in all its windows atomically and reads the previous windows'
 * counts, so N nodes racing on one limit let exactly L requests through.
 *
 * A counter is a hash `{count, keep}` at `<key>|<window start>`: `keep` is the caller's
 * `keepUntil`, so expiry follows the gateway's clock (as the local store does) and `PEXPIRE`
 * only collects the garbage. On a cluster every key of one call must live in one slot: the
 * handler's keys share a hash tag per identifier (`ratelimit:{<plugin>:<identifier>}:<period>`),
 * and the window suffix keeps it.
 *
 * @example
 *   const call = scriptCall(['ratelimit:{p:1.2.3.4}:minute'], [{ start, keepUntil }], Date.now(), 1);
 *   const counts = replyCounts(1, await client.eval(SCRIPT, call));
 */
import type { CounterWindow, WindowCount } from './store.ts';

// KEYS: per window, its counter then its previous window's counter (the same key when not wanted).
// ARGV: by, now, then per window: keepUntil, wantPrevious (1/0).
export const SCRIPT = `
local by = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local out = {}
for i = 1, #KEYS / 2 do
  local key = KEYS[2 * i - 1]
  local keep = tonumber(ARGV[1 + 2 * i])
  local stored = redis.call('HMGET', key, 'count', 'keep')
  local count = 0
  if stored[2] and tonumber(stored[2]) > now then count = tonumber(stored[1]) end
  if by > 0 or count > 0 then
    count = math.max(0, count + by)
    redis.call('HSET', key, 'count', count, 'keep', keep)
    redis.call('PEXPIRE', key, math.max(1, keep - now))
  end
  local previous = 0
  if ARGV[2 + 2 * i] == '1' then
    local before = redis.call('HMGET', KEYS[2 * i], 'count', 'keep')
    if before[2] and tonumber(before[2]) > now then previous = tonumber(before[1]) end
  end
  out[2 * i - 1] = count
  out[2 * i] = previous
end
return out
`;

export interface ScriptCall {
  readonly keys: string[];
  readonly arguments: string[];
}

/** The script's KEYS and ARGV for one `increment`. */
export function scriptCall(keys: readonly string[], windows: readonly CounterWindow[], now: number, by: number): ScriptCall {
  const scriptKeys: string[] = [];
  const args: string[] = [String(by), String(now)];
  keys.forEach((key, i) => {
    const window = windows[i] as CounterWindow;
    const current = `${key}|${window.start}`;
    scriptKeys.push(current, window.previousStart === undefined ? current : `${key}|${window.previousStart}`);
    args.push(String(window.keepUntil), window.previousStart === undefined ? '0' : '1');
  });
  return { keys: scriptKeys, arguments: args };
}

/** The script's flat reply as one count pair per key. */
export function replyCounts(keyCount: number, reply: unknown): WindowCount[] {
  const flat = reply as readonly unknown[];
  return Array.from({ length: keyCount }, (_, i) => ({ current: Number(flat[2 * i]), previous: Number(flat[2 * i + 1]) }));
}

/** `work`, or a rejection naming `what` once `ms` have passed (0 = unbounded). */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  if (ms <= 0) return work;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer in ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
