import { EventEmitter, once } from 'node:events';
import { createMemoryEngine, DEFAULT_SUBSCRIBER_LIMITS, type Engine } from '../../src/pubsub/index.ts';
import type { SubscriberOptions } from '../../src/pubsub/transports/types.ts';

/** nchan's defaults for a subscriber: oldest first, no pings, no timeout. */
export const SUBSCRIBER_DEFAULTS: SubscriberOptions = {
  firstMessage: 'oldest',
  pingInterval: 0,
  retryMs: 0,
  subscriberTimeout: 0,
  websocketPingInterval: 0,
  rawStreamSeparator: '\n',
  limits: DEFAULT_SUBSCRIBER_LIMITS,
};

/**
 * A memory engine that announces when a channel's live feed is attached, so a test can publish
 * exactly when the subscriber will hear it instead of sleeping.
 */
export function observedEngine(): { engine: Engine; subscribed(channel: string): Promise<void> } {
  const inner = createMemoryEngine();
  const events = new EventEmitter();
  const engine: Engine = {
    publish: (...a) => inner.publish(...a),
    fetch: (...a) => inner.fetch(...a),
    subscribe: async (channel, listener) => {
      const unsubscribe = await inner.subscribe(channel, listener);
      events.emit(`subscribed:${channel}`);
      return unsubscribe;
    },
    info: (...a) => inner.info(...a),
    addSubscriber: (...a) => inner.addSubscriber(...a),
    removeSubscriber: (...a) => inner.removeSubscriber(...a),
    delete: (...a) => inner.delete(...a),
    channels: (...a) => inner.channels(...a),
    stats: () => inner.stats(),
    close: () => inner.close(),
  };
  return { engine, subscribed: async (channel) => void (await once(events, `subscribed:${channel}`)) };
}
