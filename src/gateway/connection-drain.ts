/**
 * Closing a listener's connections on shutdown, whatever the protocol: idle ones as soon as
 * they are idle, all of them once the drain timeout is up. `node:http` servers do this
 * themselves (`closeIdleConnections` / `closeAllConnections`); `http2` servers do not, so their
 * sessions and their HTTP/1.1 fallback sockets are tracked here:
 *
 * - an h2 session is told to go away (`session.close()`: GOAWAY, no new streams, the open ones
 *   finish) and destroyed at the deadline;
 * - an HTTP/1.1 socket on an `ssl http2` port is closed once no request is in flight on it;
 *   a socket taken over by an upgrade (WebSocket) is the gateway's to close, not this one's.
 *
 * @example
 *   const drain = new ConnectionDrain(server);
 *   drain.closeIdle();   // every 50 ms while draining
 *   drain.closeAll();    // at the drain deadline
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { isHttp2Server, type ListenerServer } from './servers.ts';

export class ConnectionDrain {
  private readonly sessions = new Set<Http2Session>();
  /** HTTP/1.1 sockets on an http2 listener, with their requests in flight. */
  private readonly h1Sockets = new Map<Socket, number>();
  /** Every TCP connection of an http2 listener. */
  private readonly sockets = new Set<Socket>();

  constructor(private readonly server: ListenerServer) {
    if (!isHttp2Server(server)) return;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('session', (session: Http2Session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
    });
    const adopt = (socket: Socket): void => {
      this.h1Sockets.set(socket, 0);
      socket.once('close', () => this.h1Sockets.delete(socket));
    };
    // ssl: ALPN said http/1.1 (or nothing); h2c servers only ever speak h2.
    server.on('secureConnection', (socket: TLSSocket) => {
      if (socket.alpnProtocol !== 'h2') adopt(socket);
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (req.httpVersionMajor !== 1) return;
      const socket = req.socket;
      const inFlight = this.h1Sockets.get(socket);
      if (inFlight === undefined) return;
      this.h1Sockets.set(socket, inFlight + 1);
      res.once('close', () => {
        const now = this.h1Sockets.get(socket);
        if (now !== undefined) this.h1Sockets.set(socket, now - 1);
      });
    });
    server.on('upgrade', (req: IncomingMessage) => this.h1Sockets.delete(req.socket));
  }

  /** Connections with nothing in flight close now; h2 sessions stop taking new streams. */
  closeIdle(): void {
    const server = this.server;
    if (!isHttp2Server(server)) return void server.closeIdleConnections();
    for (const session of this.sessions) if (!session.closed) session.close();
    for (const [socket, inFlight] of this.h1Sockets) if (inFlight === 0) socket.destroy();
  }

  /** Everything closes now, requests in flight included. */
  closeAll(): void {
    const server = this.server;
    if (!isHttp2Server(server)) return void server.closeAllConnections();
    for (const session of this.sessions) session.destroy();
    // A destroyed session only ends its socket, which then waits for the client's end:
    // a client that never closes would hold the listener open.
    for (const socket of this.sockets) socket.destroy();
  }
}
