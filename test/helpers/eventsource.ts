/**
 * A real `eventsource` client that also records which worker process answered each of its
 * connections (the `X-Sluice-Worker` header of `workers > 1`), reconnections included.
 *
 * @example
 *   const sub = await openEventSource(`http://${proxy}/sub/news`);
 *   sub.workers;            // ['4242'], then ['4242', '4243'] after a reconnect
 *   await sub.wait(3);      // three events received
 *   sub.close();
 */
import { EventSource } from 'eventsource';

export interface ReceivedEvent {
  readonly data: string;
  readonly id: string;
}

export interface TrackedEventSource {
  readonly received: ReceivedEvent[];
  /** `X-Sluice-Worker` of every connection made, in order. */
  readonly workers: string[];
  /** The worker of the current (last) connection. */
  readonly worker: string | undefined;
  wait(count: number, timeoutMs?: number): Promise<ReceivedEvent[]>;
  close(): void;
}

export async function openEventSource(url: string): Promise<TrackedEventSource> {
  const received: ReceivedEvent[] = [];
  const workers: string[] = [];
  const waiters = new Set<() => void>();
  const es = new EventSource(url, {
    fetch: async (input, init) => {
      const res = await fetch(input, init);
      workers.push(res.headers.get('x-sluice-worker') ?? '');
      return res;
    },
  });
  es.addEventListener('message', (ev: MessageEvent) => {
    received.push({ data: String(ev.data), id: ev.lastEventId });
    for (const w of waiters) w();
  });
  await new Promise<void>((ok, fail) => {
    es.onopen = () => ok();
    es.onerror = (e) => fail(new Error(`EventSource error: ${e.message ?? e.code}`));
  });
  es.onerror = null;
  return {
    received,
    workers,
    get worker() {
      return workers.at(-1);
    },
    wait: (count, timeoutMs = 20_000) =>
      new Promise((ok, fail) => {
        const check = () => {
          if (received.length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          ok(received);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          fail(new Error(`${received.length} of ${count} events: ${JSON.stringify(received)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: () => es.close(),
  };
}
