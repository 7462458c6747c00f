/**
 * The redis engine's links to one standalone Redis: a `cmd` connection runs the scripts, a `sub`
 * connection holds the channel subscriptions (PUBLISH/SUBSCRIBE). Both reconnect forever; while
 * one is down, calls fail fast, and every call is bounded by the command timeout. It tells the
 * engine when `cmd` is (back) up (to re-assert counts), when `sub` is lost and when it is back
 * (to replay the gap).
 *
 * @example
 *   const conn = new EngineConnection(target, { onCommandReady, onSubscriberLost, onSubscriberBack, onError, now }, options);
 *   await conn.ready; // both connections up once
 */
import { RESP_TYPES } from 'redis';
import { describeRedis, createRedisClient, type RedisClient, type RedisTarget } from '../../../redis/connect.ts';
import { bounded, type CommandLink, type EngineLinks, type LinkEvents, type LinkOptions, type PayloadListener, type PubSubLink } from './link.ts';

/** Bulk strings come back as Buffers (message data is binary). */
export const BUFFERS = { [RESP_TYPES.BLOB_STRING]: Buffer } as const;

/** Resolves true once `client` says ready (at once if it is), false after `timeoutMs`. */
export function clientReady(client: { isReady: boolean; on(e: 'ready', l: () => void): unknown; off(e: 'ready', l: () => void): unknown }, timeoutMs: number): Promise<boolean> {
  if (client.isReady) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ok);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    timer.unref();
    client.on('ready', onReady);
  });
}

export class EngineConnection implements EngineLinks {
  readonly cluster = false;
  readonly cmd: CommandLink;
  readonly sub: PubSubLink;
  readonly ready: Promise<void>;
  readonly description: string;
  private readonly cmdClient: RedisClient;
  private readonly subClient: RedisClient;
  private lostAt: number | undefined;

  constructor(target: RedisTarget, events: LinkEvents, options: LinkOptions) {
    this.description = describeRedis(target);
    const timeout = options.commandTimeoutMs;
    let firstSub = true;
    const cmd = (this.cmdClient = createRedisClient(target, { name: `sluice-${options.nodeId}`, onError: (e) => events.onError(e, 'command') }));
    const sub = (this.subClient = createRedisClient(target, {
      name: `sluice-${options.nodeId}-sub`,
      onError: (e) => {
        if (this.lostAt === undefined) {
          this.lostAt = events.now();
          // Only a connection that was up can lose what it was subscribed to.
          if (!firstSub) events.onSubscriberLost();
        }
        events.onError(e, 'subscriber');
      },
    }));
    this.cmd = {
      get isReady() {
        return cmd.isReady;
      },
      // Bounded here: node-redis's own `timeout` option does not fire once a command was written.
      send: <T>(_key: string | undefined, args: readonly (string | Buffer)[], buffers = false) =>
        bounded(cmd.sendCommand<T>([...args], buffers ? { typeMapping: BUFFERS } : {}), timeout, String(args[0])),
      replicated: () => Promise.resolve(),
      scan: () => Promise.resolve([]),
    };
    this.sub = {
      get isReady() {
        return sub.isReady;
      },
      subscribe: (key: string, listener: PayloadListener) => bounded(sub.subscribe(key, listener, true), timeout, 'SUBSCRIBE'),
      unsubscribe: (key: string, listener: PayloadListener) => sub.unsubscribe(key, listener, true),
    };
    cmd.on('ready', () => events.onCommandReady());
    sub.on('ready', () => {
      if (firstSub) {
        firstSub = false;
        this.lostAt = undefined;
        return;
      }
      const lostAt = this.lostAt ?? events.now();
      this.lostAt = undefined;
      events.onSubscriberBack(lostAt);
    });
    const up = (client: RedisClient) => new Promise<void>((resolve) => {
      if (client.isReady) resolve();
      else client.once('ready', () => resolve());
    });
    this.ready = Promise.all([up(cmd), up(sub)]).then(() => undefined);
    // connect() settles on the first ready; failures are retried by the reconnect strategy.
    cmd.connect().catch((e: Error) => events.onError(e, 'command'));
    sub.connect().catch((e: Error) => events.onError(e, 'subscriber'));
  }

  commandReady(timeoutMs = 30_000): Promise<boolean> {
    return clientReady(this.cmdClient, timeoutMs);
  }

  close(): void {
    for (const client of [this.cmdClient, this.subClient]) {
      if (client.isOpen) client.destroy();
    }
  }
}
