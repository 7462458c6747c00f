/**
 * The parent side of `bench/lib/sse-clients.mjs`: N raw EventSource subscribers in their own
 * process, reporting over IPC when every one of them has seen message k.
 *
 * @example
 *   const clients = await Clients.start();
 *   await clients.connect(port, '/sub/ch', 1000);
 *   const delivered = clients.delivery(1); // publish, then:
 *   const { firstNs, lastNs } = await delivered;
 *   await clients.stop();
 */
import { fork, type ChildProcess } from 'node:child_process';

const CONNECT_CONCURRENCY = 256;
const DELIVERY_TIMEOUT_MS = 30_000;

type ClientMessage =
  | { type: 'ready' }
  | { type: 'connected'; ok: number; failed: number; ms: number; error?: string }
  | { type: 'delivered'; k: number; firstNs: string; lastNs: string }
  | { type: 'lost'; count: number };

export class Clients {
  readonly child: ChildProcess;
  private readonly delivered = new Map<number, { firstNs: bigint; lastNs: bigint }>();
  private readonly waiters = new Map<number, () => void>();
  lost = 0;

  private constructor(child: ChildProcess) {
    this.child = child;
    child.on('message', (m: ClientMessage) => {
      if (m.type === 'delivered') {
        this.delivered.set(m.k, { firstNs: BigInt(m.firstNs), lastNs: BigInt(m.lastNs) });
        this.waiters.get(m.k)?.();
      } else if (m.type === 'lost') this.lost = m.count;
    });
  }

  static async start(): Promise<Clients> {
    const child = fork(new URL('./sse-clients.mjs', import.meta.url).pathname, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    await once<ClientMessage>(child, (m) => m.type === 'ready', 10_000);
    return new Clients(child);
  }

  async connect(port: number, path: string, count: number): Promise<{ ok: number; failed: number; ms: number; error?: string }> {
    const answer = once<ClientMessage>(this.child, (m) => m.type === 'connected', 120_000);
    this.child.send({ cmd: 'connect', host: '127.0.0.1', port, path, count, concurrency: CONNECT_CONCURRENCY });
    return (await answer) as Extract<ClientMessage, { type: 'connected' }>;
  }

  /** Resolves when every subscriber has seen its k-th message; rejects after `timeoutMs`. */
  delivery(k: number, timeoutMs = DELIVERY_TIMEOUT_MS): Promise<{ firstNs: bigint; lastNs: bigint }> {
    return new Promise((resolve, reject) => {
      const have = () => this.delivered.get(k);
      const timer = setTimeout(() => reject(new Error(`message ${k} did not reach every subscriber in ${timeoutMs} ms`)), timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(k);
        resolve(have() as { firstNs: bigint; lastNs: bigint });
      };
      if (have()) done();
      else this.waiters.set(k, done);
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.kill('SIGKILL'); // closes every socket at once
    });
  }
}

function once<T>(child: ChildProcess, accept: (m: T) => boolean, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', listener);
      reject(new Error(`no answer from the subscriber process in ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (m: T) => {
      if (!accept(m)) return;
      clearTimeout(timer);
      child.off('message', listener);
      resolve(m);
    };
    child.on('message', listener);
  });
}

