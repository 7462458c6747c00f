/**
 * The redis engine's Lua scripts (one file per operation in `./lua/`, each prefixed with
 * `common.lua`), run with EVALSHA; a Redis that does not know a script yet (fresh start, SCRIPT
 * FLUSH, failover) gets it with SCRIPT LOAD and the call is retried once.
 *
 * @example
 *   const reply = await runScript(client, 'info', [meta, buf, subs, set], [channel, now, prefix, lease]);
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { RESP_TYPES } from 'redis';
import type { RedisClient } from '../../../redis/connect.ts';

export type ScriptName =
  | 'publish' | 'fetch' | 'info' | 'add-subscriber' | 'remove-subscriber' | 'delete' | 'claim' | 'stats' | 'heartbeat';

interface Script {
  readonly text: string;
  readonly sha: string;
}

const read = (file: string): string => readFileSync(new URL(`./lua/${file}`, import.meta.url), 'utf8');
const COMMON = read('common.lua');
const cache = new Map<ScriptName, Script>();

function script(name: ScriptName): Script {
  let s = cache.get(name);
  if (s === undefined) {
    // heartbeat needs none of the channel helpers.
    const text = name === 'heartbeat' ? read('heartbeat.lua') : `${COMMON}\n${read(`${name}.lua`)}`;
    s = { text, sha: createHash('sha1').update(text).digest('hex') };
    cache.set(name, s);
  }
  return s;
}

/** What a script returns: nested arrays of integers and (binary-safe) strings, or null. */
export type ScriptReply = number | Buffer | null | ScriptReply[];

/** Bulk strings come back as Buffers (message data is binary). */
const BUFFERS = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } } as const;

/** Runs one script atomically on Redis. */
export async function runScript(
  client: RedisClient,
  name: ScriptName,
  keys: readonly string[],
  args: readonly (string | Buffer)[],
): Promise<ScriptReply> {
  const s = script(name);
  const call = (sha: string) => client.sendCommand<ScriptReply>(['EVALSHA', sha, String(keys.length), ...keys, ...args], BUFFERS);
  try {
    return await call(s.sha);
  } catch (e) {
    if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
    await client.sendCommand(['SCRIPT', 'LOAD', s.text]);
    return call(s.sha);
  }
}

const ALL: readonly ScriptName[] = ['publish', 'fetch', 'info', 'add-subscriber', 'remove-subscriber', 'delete', 'claim', 'stats', 'heartbeat'];

/** SCRIPT LOADs every script (after a (re)connect), so EVALSHA rarely misses. */
export async function loadScripts(client: RedisClient): Promise<void> {
  await Promise.all(ALL.map((name) => client.sendCommand(['SCRIPT', 'LOAD', script(name).text])));
}

/** Reply helpers: scripts answer integers as numbers and strings as Buffers. */
export function num(reply: ScriptReply | undefined): number {
  if (typeof reply === 'number') return reply;
  if (Buffer.isBuffer(reply)) return Number(reply.toString());
  throw new TypeError(`redis engine: expected a number in a script reply, got ${String(reply)}`);
}

export function list(reply: ScriptReply | undefined): ScriptReply[] {
  if (Array.isArray(reply)) return reply;
  throw new TypeError('redis engine: expected an array in a script reply');
}
