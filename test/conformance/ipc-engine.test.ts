import type { Engine } from '../../src/pubsub/engine.ts';
import { createMemoryEngine } from '../../src/pubsub/engines/memory/index.ts';
import { ipcPair } from '../helpers/ipc-engine.ts';
import { engineConformance } from './engine-conformance.ts';

/**
 * The worker-side engine against the primary's memory engine over a real MessageChannel.
 * Closing the engine closes the whole pair, so each test starts from a fresh primary.
 */
function ipcEngine(now: () => number, sweepIntervalMs: number): Engine {
  const pair = ipcPair(createMemoryEngine({ now, sweepIntervalMs }));
  const { engine } = pair.worker();
  const close = async () => {
    await engine.close();
    await pair.close();
  };
  return new Proxy(engine, { get: (target, key) => (key === 'close' ? close : Reflect.get(target, key)) });
}

engineConformance('ipc (worker → primary memory engine)', (now) => ipcEngine(now, 0));
engineConformance('ipc (with sweep timer)', (now) => ipcEngine(now, 5));
