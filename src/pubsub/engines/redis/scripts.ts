/**
 * The redis engine's Lua scripts (one file per operation in `./lua/`, each prefixed with
 * `common.lua`), run with EVALSHA on the node that owns the script's first key; a node that does
 * not know a script yet (fresh start, SCRIPT FLUSH, a replica promoted by a failover) gets it
 * with EVAL in the same call (EVAL also caches it there).
 *
 * @example
 *   const reply = await runScript(links.cmd, 'info', [meta, buf, subs, index], [channel, now, lease]);
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CommandLink } from './link.ts';

export type ScriptName = 'publish' | 'fetch' | 'info' | 'add-subscriber' | 'remove-subscriber' | 'delete' | 'claim' | 'stats';

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
    const text = `${COMMON}\n${read(`${name}.lua`)}`;
    s = { text, sha: createHash('sha1').update(text).digest('hex') };
    cache.set(name, s);
  }
  return s;
}

/** What a script returns: nested arrays of integers and (binary-safe) strings, or null. */
export type ScriptReply = number | Buffer | null | ScriptReply[];

/** Runs one script atomically on the node that owns `keys[0]`. */
export async function runScript(
  link: CommandLink,
  name: ScriptName,
  keys: readonly string[],
  args: readonly (string | Buffer)[],
): Promise<ScriptReply> {
  const s = script(name);
  const tail = [String(keys.length), ...keys, ...args];
  try {
    return await link.send<ScriptReply>(keys[0], ['EVALSHA', s.sha, ...tail], true);
  } catch (e) {
    if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
    return link.send<ScriptReply>(keys[0], ['EVAL', s.text, ...tail], true);
  }
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
