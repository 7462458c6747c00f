/**
 * What a stretch of a benchmark cost Redis, seen two ways:
 *
 * - `sent`: the commands clients sent (MONITOR lines from a client address, not from `lua`), by
 *   name; EVALSHA is named after the redis engine's script it runs (`evalsha publish`). These
 *   are the round trips (a pipelined batch would count once per command).
 * - `executed`: every command Redis ran, those inside Lua scripts included (`INFO commandstats`
 *   deltas), by name, with the server's µs in them.
 *
 * On a Redis other clients use too, `only` (the nodes' key namespace) keeps `sent` to the lines
 * that name it; `executed` cannot be filtered and includes their work.
 *
 * Our own commands (INFO, the ECHO markers that bound the stretch, CLIENT INFO) are left out.
 * The markers make the stretch exact without sleeping: counting starts when the monitor sees the
 * start marker and stops when it sees the end marker.
 *
 * @example
 *   const watch = await RedisWatch.start(url); // or (url, 'sluice-bench:1a2b:') on a shared Redis
 *   … // the timed stretch
 *   const { sent, executed } = await watch.stop();
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createClient } from 'redis';

export interface Count {
  readonly calls: number;
  readonly usec: number;
}
/** Per command name, most calls first. */
export type Counts = readonly (readonly [string, Count])[];

export interface RedisWork {
  readonly sent: Counts;
  readonly executed: Counts;
}

type Stats = ReadonlyMap<string, Count>;
const OURS = new Set(['info', 'echo', 'client|info']);

/** Parses `cmdstat_<name>:calls=N,usec=N,…` lines (subcommands come as `client|info`). */
export function parseCommandStats(info: string): Stats {
  const stats = new Map<string, Count>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    stats.set(match[1] as string, { calls: Number(match[2]), usec: Number(match[3]) });
  }
  return stats;
}

function diff(before: Stats, after: Stats): Counts {
  const out: [string, Count][] = [];
  for (const [name, { calls, usec }] of after) {
    const was = before.get(name) ?? { calls: 0, usec: 0 };
    if (!OURS.has(name) && calls > was.calls) out.push([name, { calls: calls - was.calls, usec: usec - was.usec }]);
  }
  return out.sort((a, b) => b[1].calls - a[1].calls);
}

/**
 * SHA1 → script name for the redis engine's scripts, built the way `scripts.ts` builds them
 * (`common.lua` + the script; heartbeat alone). Unknown SHAs print as their first 8 digits.
 */
function scriptNames(): Map<string, string> {
  const dir = new URL('../../src/pubsub/engines/redis/lua/', import.meta.url);
  const names = new Map<string, string>();
  if (!existsSync(dir)) return names;
  const read = (file: string) => readFileSync(new URL(file, dir), 'utf8');
  const common = read('common.lua');
  for (const name of ['publish', 'fetch', 'info', 'add-subscriber', 'remove-subscriber', 'delete', 'claim', 'stats', 'heartbeat']) {
    if (!existsSync(new URL(`${name}.lua`, dir))) continue;
    const text = name === 'heartbeat' ? read('heartbeat.lua') : `${common}\n${read(`${name}.lua`)}`;
    names.set(createHash('sha1').update(text).digest('hex'), name);
  }
  return names;
}

/** `1700000000.123 [0 127.0.0.1:4242] "EVALSHA" "ab12…" …` → source address, command, first argument. */
const MONITOR_LINE = /^\S+ \[\d+ ([^\]]+)\] "([^"]*)"(?: "([^"]*)")?/;

export class RedisWatch {
  private readonly sent = new Map<string, number>();
  private counting = false;
  private markerSeen: ((marker: string) => void) | undefined;
  private before: Stats = new Map();

  private constructor(
    private readonly stats: ReturnType<typeof createClient>,
    private readonly monitor: ReturnType<typeof createClient>,
  ) {}

  static async start(url: string, only?: string): Promise<RedisWatch> {
    const stats = createClient({ url });
    const monitor = createClient({ url });
    stats.on('error', () => {});
    monitor.on('error', () => {});
    try {
      return await RedisWatch.begin(stats, monitor, only);
    } catch (error) {
      stats.destroy();
      monitor.destroy();
      throw error;
    }
  }

  private static async begin(stats: ReturnType<typeof createClient>, monitor: ReturnType<typeof createClient>, only: string | undefined): Promise<RedisWatch> {
    await Promise.all([stats.connect(), monitor.connect()]);
    const ownAddr = /addr=(\S+)/.exec(String(await stats.sendCommand(['CLIENT', 'INFO'])))?.[1];
    const names = scriptNames();
    const watch = new RedisWatch(stats, monitor);
    await monitor.monitor((line: string) => {
      const match = MONITOR_LINE.exec(line);
      if (!match) return;
      const [, addr, command = '', arg = ''] = match;
      if (addr === ownAddr) return watch.markerSeen?.(arg);
      if (!watch.counting || addr === 'lua' || (only !== undefined && !line.includes(only))) return;
      const name = command.toLowerCase() === 'evalsha' ? `evalsha ${names.get(arg) ?? arg.slice(0, 8)}` : command.toLowerCase();
      watch.sent.set(name, (watch.sent.get(name) ?? 0) + 1);
    });
    await watch.mark();
    watch.counting = true;
    watch.before = parseCommandStats(await stats.info('commandstats'));
    return watch;
  }

  /** Sends an ECHO marker and resolves once the monitor has seen it (every earlier line too). */
  private async mark(): Promise<void> {
    const marker = `sluice-bench-mark-${randomBytes(4).toString('hex')}`;
    const seen = new Promise<void>((resolve) => (this.markerSeen = (arg) => arg === marker && resolve()));
    await this.stats.sendCommand(['ECHO', marker]);
    await seen;
  }

  async stop(): Promise<RedisWork> {
    try {
      await this.mark();
      this.counting = false;
      const after = parseCommandStats(await this.stats.info('commandstats'));
      const sent: Counts = [...this.sent].map(([name, calls]): [string, Count] => [name, { calls, usec: 0 }]).sort((a, b) => b[1].calls - a[1].calls);
      return { sent, executed: diff(this.before, after) };
    } finally {
      this.monitor.destroy();
      this.stats.destroy();
    }
  }

  /** Stops watching without a reading (the row failed). */
  close(): void {
    this.monitor.destroy();
    this.stats.destroy();
  }
}
