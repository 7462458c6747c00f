/**
 * The gateway's listeners as servers: bound one address at a time (so a failure leaves the
 * ones already bound for the caller to close), each counted and tracked for the drain, and
 * closed together on stop: idle keep-alive connections at once, busy ones when they finish,
 * and whatever is left (upgraded WebSocket sockets included) once the drain timeout passes.
 *
 * @example
 *   servers.push(await bindListener('proxy', address, { onRequest, bodyLimit: 0, maxHeaderSize }, tls, countConnection));
 *   await closeListeners(servers, upgradedSockets, 30_000);
 */
import type { Duplex } from 'node:stream';
import { Server as TlsServer } from 'node:tls';
import { ConnectionDrain } from './connection-drain.ts';
import { listen, type ListenAddress } from './listeners.ts';
import { createListenerServer, type ListenerServer, type ListenerServerOptions } from './servers.ts';
import type { ListenerTls, TlsListenerName } from './tls/listener-tls.ts';

export interface BoundListener {
  readonly name: TlsListenerName;
  readonly server: ListenerServer;
  readonly drain: ConnectionDrain;
  /** As bound: port 0 became the real port. */
  readonly address: string;
}

/** Creates `name`'s server for `address` (`ssl` ones get their certificates from `tls`) and binds it. */
export async function bindListener(
  name: TlsListenerName,
  address: ListenAddress,
  options: Omit<ListenerServerOptions, 'tls'>,
  tls: ListenerTls,
  onConnection: (socket: Duplex) => void,
): Promise<BoundListener> {
  const server = createListenerServer(name, address, { ...options, tls: address.ssl === true ? tls.serverOptions(name) : undefined });
  if (server instanceof TlsServer) tls.attach(server, name);
  const drain = new ConnectionDrain(server);
  server.on('connection', onConnection);
  const bound = await listen(server, name, address);
  return { name, server, drain, address: bound };
}

/**
 * Stops accepting on every listener and waits for their connections, for up to
 * `drainTimeoutMs`; then closes what is left. `upgraded` sockets (which the HTTP servers no
 * longer track) are destroyed at the end either way.
 */
export async function closeListeners(servers: readonly BoundListener[], upgraded: ReadonlySet<Duplex>, drainTimeoutMs: number): Promise<void> {
  const closing = servers.map(({ server }) => new Promise<void>((resolve) => server.close(() => resolve())));
  for (const { drain } of servers) drain.closeIdle();
  const timer = setTimeout(() => {
    for (const { drain } of servers) drain.closeAll();
    for (const socket of upgraded) socket.destroy();
  }, drainTimeoutMs);
  timer.unref();
  // Keep-alive connections that finish their last request become idle: close them too.
  const idleSweep = setInterval(() => {
    for (const { drain } of servers) drain.closeIdle();
  }, 50);
  idleSweep.unref();
  try {
    await Promise.all(closing);
  } finally {
    clearTimeout(timer);
    clearInterval(idleSweep);
  }
  for (const socket of upgraded) socket.destroy();
}
