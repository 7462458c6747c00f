/**
 * The redis engine's two connections to one Redis: `cmd` runs the scripts, `sub` holds the
 * channel subscriptions. Both reconnect forever; while one is down, calls fail fast. It tells
 * the engine when `cmd` is (back) up (to renew the lease and re-assert counts) and when `sub`
 * is back after a loss (to replay the gap), and loads the scripts on every (re)connect.
 *
 * @example
 *   const conn = new EngineConnection(target, { onCommandReady, onSubscriberBack, onError });
 *   await conn.ready; // both connections up once
 */
import { describeRedis, createRedisClient, type RedisClient, type RedisTarget } from '../../../redis/connect.ts';

export interface ConnectionEvents {
  /** `cmd` connected (first time or again). */
  readonly onCommandReady: () => void;
  /** `sub` was lost (first error of an outage): live events must wait for the catch-up from now on. */
  readonly onSubscriberLost: () => void;
  /** `sub` reconnected and resubscribed; `lostAt` = engine clock when it was lost. */
  readonly onSubscriberBack: (lostAt: number) => void;
  readonly onError: (error: Error, connection: 'command' | 'subscriber') => void;
  readonly now: () => number;
}

export class EngineConnection {
  readonly cmd: RedisClient;
  readonly sub: RedisClient;
  /** Resolves once both connections were up once; never rejects (Redis may come later). */
  readonly ready: Promise<void>;
  readonly description: string;
  private lostAt: number | undefined;

  constructor(target: RedisTarget, events: ConnectionEvents, nodeId: string) {
    this.description = describeRedis(target);
    let firstSub = true;
    this.cmd = createRedisClient(target, { name: `sluice-${nodeId}`, onError: (e) => events.onError(e, 'command') });
    this.sub = createRedisClient(target, {
      name: `sluice-${nodeId}-sub`,
      onError: (e) => {
        if (this.lostAt === undefined) {
          this.lostAt = events.now();
          // Only a connection that was up can lose what it was subscribed to.
          if (!firstSub) events.onSubscriberLost();
        }
        events.onError(e, 'subscriber');
      },
    });
    this.cmd.on('ready', () => events.onCommandReady());
    this.sub.on('ready', () => {
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
    this.ready = Promise.all([up(this.cmd), up(this.sub)]).then(() => undefined);
    // connect() settles on the first ready; failures are retried by the reconnect strategy.
    this.cmd.connect().catch((e: Error) => events.onError(e, 'command'));
    this.sub.connect().catch((e: Error) => events.onError(e, 'subscriber'));
  }

  /** Resolves true once `cmd` is up (at once if it is), false after `timeoutMs`. */
  commandReady(timeoutMs = 30_000): Promise<boolean> {
    if (this.cmd.isReady) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.cmd.off('ready', onReady);
        resolve(ok);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      timer.unref();
      this.cmd.on('ready', onReady);
    });
  }

  /** Drops both connections at once (pending commands reject). */
  close(): void {
    for (const client of [this.cmd, this.sub]) {
      if (client.isOpen) client.destroy();
    }
  }
}
