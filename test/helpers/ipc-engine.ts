/**
 * The `ipc` engine wired to a host over a real `MessageChannel` (structured clone, as the
 * cluster's advanced serialization): what a worker and the primary do, in one process.
 *
 * @example
 *   const { primary, worker } = ipcPair(createMemoryEngine());
 *   const a = worker(); const b = worker();   // two "workers" sharing the primary's engine
 *   await primary.close();
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { Engine } from '../../src/pubsub/engine.ts';
import { createEngineHost, createIpcEngine, type EngineHost, type EnginePort } from '../../src/pubsub/engines/ipc/index.ts';

export function messagePortAdapter(port: MessagePort): EnginePort {
  return {
    send: (message) => port.postMessage(message),
    onMessage: (handler) => {
      port.on('message', handler);
      return () => void port.off('message', handler);
    },
    onClose: (handler) => {
      port.once('close', handler);
      return () => void port.off('close', handler);
    },
  };
}

export interface IpcPair {
  readonly host: EngineHost;
  /**
   * A new worker-side engine on its own channel; `kill()` closes the channel as a dying worker
   * does, and `detached` resolves once the primary has released what it held.
   */
  worker(): { engine: Engine; kill(): void; detached: Promise<void> };
  /** Closes the host, every channel, and the primary's engine. */
  close(): Promise<void>;
}

export function ipcPair(primaryEngine: Engine): IpcPair {
  const host = createEngineHost(primaryEngine);
  const ports: MessagePort[] = [];
  return {
    host,
    worker() {
      const { port1, port2 } = new MessageChannel();
      ports.push(port1, port2);
      const detach = host.attach(messagePortAdapter(port1));
      const detached = new Promise<void>((resolve) => port1.once('close', () => resolve())).then(detach);
      const engine = createIpcEngine(messagePortAdapter(port2));
      return { engine, kill: () => port2.close(), detached };
    },
    async close() {
      await host.close();
      for (const p of ports) p.close();
      await primaryEngine.close();
    },
  };
}
