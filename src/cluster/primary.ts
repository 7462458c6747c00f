/**
 * The primary of `workers > 1` (node:cluster): it forks the workers, owns the shared memory
 * engine and relays it to them, supervises, and relays signals. It serves no traffic itself;
 * the workers share every listener (the cluster hands each accepted connection to a worker).
 *
 * - start-up: one `listening` line once every worker is listening (a worker failing before that
 *   stops the rest; exit 1);
 * - a worker that dies is logged (`worker_exit`) and replaced (`worker_started`); its
 *   subscribers are uncounted at once and reconnect to the other workers, resuming from the
 *   primary's buffers;
 * - SIGTERM/SIGINT: every worker drains (`Gateway.stop`), then the primary exits 0;
 * - SIGHUP: every worker reloads its config.
 *
 * @example
 *   if (cluster.isPrimary && settings.workers > 1) return runPrimary({ workers: 2, engine: 'memory', logger, configHash });
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../observability/logger.ts';
import type { Engine } from '../pubsub/engine.ts';
import { createEngineHost, primaryPort, type EngineHost } from '../pubsub/engines/ipc/index.ts';
import { createMemoryEngine } from '../pubsub/engines/memory/index.ts';
import { VERSION } from '../version.ts';
import { isConfigMessage, isReadyMessage, type ConfigMessage, type ReadyMessage } from './messages.ts';

export interface PrimaryOptions {
  readonly workers: number;
  readonly engine: 'memory' | 'redis';
  readonly logger: Logger;
  /** Of the config the primary validated before forking (logged in the `listening` line). */
  readonly configHash: string;
  readonly err: (line: string) => void;
  /** A worker that dies sooner than this after its fork is restarted after this delay (crash loops). */
  readonly restartDelayMs?: number;
}

type Phase = 'starting' | 'running' | 'stopping';

/** The engine the primary hosts for its workers: memory only; with redis, workers are nodes. */
function hostedEngine(engine: PrimaryOptions['engine']): { engine: Engine; host: EngineHost } | undefined {
  if (engine !== 'memory') return undefined;
  const memory = createMemoryEngine();
  return { engine: memory, host: createEngineHost(memory) };
}

/** Runs until the workers have drained after SIGTERM/SIGINT; resolves with the exit code. */
export function runPrimary(options: PrimaryOptions): Promise<number> {
  const { logger, workers } = options;
  const restartDelayMs = options.restartDelayMs ?? 1000;
  cluster.setupPrimary({ serialization: 'advanced' });
  const hosted = hostedEngine(options.engine);
  const live = new Set<Worker>();
  const restarts = new Set<NodeJS.Timeout>();
  let phase: Phase = 'starting';
  let exitCode = 0;
  let first: ReadyMessage['addresses'] | undefined;
  const ready = new Set<Worker>();
  /** The last config POSTed to a worker's Admin API; replaced by the file again on SIGHUP. */
  let posted: ConfigMessage | undefined;

  return new Promise<number>((resolve) => {
    const fork = (): void => {
      const worker = cluster.fork();
      const bornAt = Date.now();
      live.add(worker);
      hosted?.host.attach(primaryPort(worker)); // detached by the port when the worker exits
      worker.on('message', (message: unknown) => {
        if (isReadyMessage(message)) onReady(worker, message);
        else if (isConfigMessage(message)) onConfig(worker, message);
      });
      worker.once('exit', (code, signal) => onExit(worker, code, signal, Date.now() - bornAt));
    };

    const onConfig = (from: Worker, message: ConfigMessage): void => {
      posted = message;
      for (const worker of live) if (worker !== from) worker.send(message);
      logger.info({ event: 'config_relayed', from: from.process.pid, workers: live.size - 1 }, 'config from the Admin API relayed to every worker');
    };

    const onReady = (worker: Worker, message: ReadyMessage): void => {
      const pid = worker.process.pid;
      if (posted) worker.send(posted); // a replacement worker serves what the others serve
      if (phase === 'running') return void logger.info({ event: 'worker_started', worker: pid }, 'worker process started');
      if (phase !== 'starting') return;
      first ??= message.addresses;
      ready.add(worker);
      if (ready.size < workers) return;
      phase = 'running';
      const pids = [...live].map((w) => w.process.pid);
      logger.info({ event: 'listening', version: VERSION, listeners: first, config_hash: options.configHash, workers: pids }, 'sluice started');
    };

    const onExit = (worker: Worker, code: number | null, signal: string | null, livedMs: number): void => {
      live.delete(worker);
      ready.delete(worker);
      const pid = worker.process.pid;
      if (phase === 'stopping') {
        if (live.size === 0) void finish();
        return;
      }
      if (phase === 'starting') {
        options.err(`sluice: worker ${pid} exited during start-up (${signal ?? `code ${code}`}); stopping`);
        exitCode = 1;
        return stopAll();
      }
      logger.error({ event: 'worker_exit', worker: pid, code, signal }, 'worker process exited; starting a new one');
      const timer = setTimeout(() => {
        restarts.delete(timer);
        if (phase === 'running') fork();
      }, livedMs < restartDelayMs ? restartDelayMs : 0);
      restarts.add(timer);
    };

    const stopAll = (): void => {
      phase = 'stopping';
      for (const timer of restarts) clearTimeout(timer);
      restarts.clear();
      for (const worker of live) worker.process.kill('SIGTERM');
      if (live.size === 0) void finish();
    };

    const stop = (signal: NodeJS.Signals): void => {
      if (phase === 'stopping') return;
      logger.info({ event: 'stopping', signal }, 'draining every worker');
      stopAll();
    };
    const reload = (): void => {
      posted = undefined;
      for (const worker of live) worker.process.kill('SIGHUP');
    };

    let finished = false;
    const finish = async (): Promise<void> => {
      if (finished) return;
      finished = true;
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      process.off('SIGHUP', reload);
      await hosted?.host.close();
      await hosted?.engine.close();
      if (exitCode === 0) logger.info({ event: 'stopped' }, 'sluice stopped');
      resolve(exitCode);
    };

    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.on('SIGHUP', reload);
    for (let i = 0; i < workers; i++) fork();
  });
}
