/**
 * The worker side of `workers > 1`: a worker is an ordinary `sluice start` (forked by the
 * primary with the same arguments and environment) that takes its engine from here and tells
 * the primary when it is listening instead of logging the start-up line itself.
 *
 * @example
 *   const role = cluster.isWorker ? workerRole(settings) : undefined;
 *   const gateway = await Gateway.start({ ...options, ...role?.gatewayOptions });
 *   role ? role.ready(gateway.addresses) : logger.info({ event: 'listening', … });
 */
import cluster from 'node:cluster';
import type { NodeSettings } from '../config/settings.ts';
import type { ListenerName } from '../gateway/gateway.ts';
import type { Engine } from '../pubsub/engine.ts';
import { createIpcEngine, workerPort } from '../pubsub/engines/ipc/index.ts';
import { CONFIG_KIND, isConfigMessage, READY_KIND, type ConfigMessage, type ReadyMessage } from './messages.ts';

export interface WorkerRole {
  /** The engine this worker reaches the primary's through (memory); undefined when workers are plain nodes (redis). */
  readonly engine: Engine | undefined;
  readonly gatewayOptions: { readonly workerTag: string; readonly onAdminConfig: (text: string) => void };
  /** Applies configs that other workers' Admin APIs took (relayed by the primary). */
  followConfig(apply: (text: string) => void): void;
  /** Tells the primary this worker is serving; the primary logs `listening` once for all. */
  ready(addresses: Readonly<Record<ListenerName, readonly string[]>>): void;
}

export function workerRole(settings: NodeSettings): WorkerRole {
  return {
    engine: workerEngine(settings),
    gatewayOptions: {
      workerTag: String(process.pid),
      onAdminConfig: (text) => {
        const message: ConfigMessage = { kind: CONFIG_KIND, text };
        process.send?.(message);
      },
    },
    followConfig(apply) {
      process.on('message', (message: unknown) => {
        if (isConfigMessage(message)) apply(message.text);
      });
    },
    ready(addresses) {
      const message: ReadyMessage = { kind: READY_KIND, addresses };
      process.send?.(message);
    },
  };
}

/**
 * The seam between engines and workers. memory: the primary owns the one real engine and every
 * worker reaches it through the `ipc` engine. redis: workers are simply nodes, each with its own
 * Redis engine (built from the settings like any node's), and the primary hosts nothing (see
 * `hostedEngine` in primary.ts).
 */
function workerEngine(settings: NodeSettings): Engine | undefined {
  return settings.engine === 'memory' ? createIpcEngine(workerPort()) : undefined;
}

/**
 * Lets a finished worker exit: the cluster IPC channel keeps a worker alive, and a plain
 * `process.disconnect()` would make Node exit with 0 whatever the exit code.
 */
export function releaseWorker(): void {
  if (cluster.isWorker && cluster.worker?.isConnected()) cluster.worker.disconnect();
}
