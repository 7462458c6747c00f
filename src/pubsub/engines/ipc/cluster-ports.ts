/**
 * `EnginePort`s over node:cluster's IPC channel: `workerPort()` in a worker (talks to the
 * primary through `process.send`), `primaryPort(worker)` in the primary. The cluster must use
 * `serialization: 'advanced'` (structured clone) so message bodies travel as bytes.
 *
 * @example
 *   cluster.setupPrimary({ serialization: 'advanced' });
 *   host.attach(primaryPort(cluster.fork()));    // primary
 *   createIpcEngine(workerPort());               // worker
 */
import type { Worker } from 'node:cluster';
import type { EngineMessage, EnginePort } from './protocol.ts';

/** Without a callback a failed send is an 'error' event, which would crash the process. */
const ignore = (): void => {};

/** The worker's end. Throws at once when the process has no IPC channel. */
export function workerPort(proc: NodeJS.Process = process): EnginePort {
  const send = proc.send?.bind(proc);
  if (send === undefined) throw new Error('workerPort: this process was not started with an IPC channel');
  return {
    send: (message: EngineMessage) => {
      if (!proc.connected) throw new Error('the primary process is gone');
      // A send that fails is the channel closing: `disconnect` follows and fails the calls.
      send(message, undefined, undefined, ignore);
    },
    onMessage: (handler) => {
      proc.on('message', handler);
      return () => void proc.off('message', handler);
    },
    onClose: (handler) => {
      proc.once('disconnect', handler);
      return () => void proc.off('disconnect', handler);
    },
  };
}

/** The primary's end for one worker. Sends to a worker that is gone are dropped. */
export function primaryPort(worker: Worker): EnginePort {
  return {
    send: (message: EngineMessage) => {
      if (worker.isConnected()) worker.send(message, ignore);
    },
    onMessage: (handler) => {
      worker.on('message', handler);
      return () => void worker.off('message', handler);
    },
    onClose: (handler) => {
      worker.once('exit', handler);
      return () => void worker.off('exit', handler);
    },
  };
}
