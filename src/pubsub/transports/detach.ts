/**
 * Takes an HTTP/1 stream's socket away from Node's HTTP server once the response head is out,
 * as Node itself does for an upgrade: the server's socket listeners go, the HTTP parser is
 * unconsumed and freed, and the response forgets the socket. An idle subscriber then costs the
 * socket and its subscription, not a parser, the server's per-connection closures and the
 * request/response machinery (about 3 KiB of heap each, plus the parser's native buffers).
 *
 * From then on the stream writes its frames, pings, farewell and the chunked terminator
 * (`0\r\n\r\n`) to the socket itself and closes the connection when it ends (no keep-alive
 * after a stream: the parser is gone). A client's FIN ends the connection as Node's server
 * would (`httpAllowHalfOpen` is off): the socket stops allowing half-open, so Node's stream
 * ends our side itself; bytes a client sends meanwhile are discarded.
 *
 * The Node internals used (`socket.parser`, its `unconsume`/`finish`/`remove`/`close` methods,
 * the server's bound `socketOnData`/`socketOnEnd`/`socketOnClose`/`socketOnDrain` listeners) are
 * feature-detected: when any is missing the stream stays on the response path (`undefined`).
 *
 * @example
 *   const socket = detachHttpSocket(req, res);   // after writeHead + preamble
 *   if (socket) socket.once('close', onClientGone);
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** What Node's HTTP server hangs on a connection's socket (internals, hence all optional). */
interface ServerSocket extends Socket {
  parser?: NodeParser | null;
  _httpMessage?: unknown;
  _handle?: { _consumed?: boolean } | null;
}

interface NodeParser {
  unconsume(): void;
  finish(): unknown;
  remove(): void;
  close(): void;
  _consumed?: boolean;
  socket?: unknown;
  incoming?: unknown;
  outgoing?: unknown;
  onIncoming?: unknown;
}

/** The server's per-connection listeners, by the names of Node's bound functions. */
const SERVER_LISTENERS = [
  ['data', 'bound socketOnData'],
  ['end', 'bound socketOnEnd'],
  ['close', 'bound socketOnClose'],
  ['drain', 'bound socketOnDrain'],
] as const;

/** Node's `socket.on`/`addListener`/`prependListener` wrappers, restored to the prototype's. */
const LISTENER_WRAPPERS = ['on', 'addListener', 'prependListener'] as const;

/** Where a socket keeps the addresses once read (`remoteAddress`, `localPort`, ...). */
const ADDRESS_CACHES = ['_peername', '_sockname'] as const;

let detached = 0;

/** How many streams were detached so far (tests assert the detach keeps happening). */
export function detachedStreamCount(): number {
  return detached;
}

/** The socket, now the stream's alone; `undefined` when the stream must stay on `res`. */
export function detachHttpSocket(req: IncomingMessage, res: ServerResponse): Socket | undefined {
  const socket = res.socket as ServerSocket | null;
  if (socket === null || req.httpVersionMajor !== 1 || req.method === 'HEAD' || !res.headersSent) return undefined;
  // Bytes still held by the response itself (not yet handed to the socket) would be lost.
  const pending = (res as { outputData?: unknown }).outputData;
  if (socket._httpMessage !== res || !Array.isArray(pending) || pending.length !== 0) return undefined;
  const parser = socket.parser;
  if (!isParser(parser)) return undefined;
  const found = SERVER_LISTENERS.map(([event, name]) => socket.listeners(event).find((fn) => fn.name === name));
  if (found.some((fn) => fn === undefined)) return undefined;

  SERVER_LISTENERS.forEach(([event], i) => socket.removeListener(event, found[i] as (...args: unknown[]) => void));
  // Assigned, not deleted: deleting own properties turns the socket into a dictionary (+1.6 KiB).
  const own = socket as unknown as Record<string, unknown>;
  const proto = Object.getPrototypeOf(socket) as Record<string, unknown>;
  for (const name of LISTENER_WRAPPERS) if (Object.hasOwn(socket, name)) own[name] = proto[name];
  // The addresses read for the request (~0.15 KiB per socket): asked of the handle again if
  // read while the stream is open (a reload's re-check).
  for (const name of ADDRESS_CACHES) if (own[name] != null) own[name] = null;
  // The server's per-connection state (and through it the parser) also hangs on the response:
  // its 'finish' listener and its pending-bytes hook. The response never writes again.
  for (const fn of res.listeners('finish')) if (fn.name === 'bound resOnFinish') res.removeListener('finish', fn as () => void);
  const hooked = res as { _onPendingData?: unknown };
  if (typeof hooked._onPendingData === 'function') hooked._onPendingData = discard;
  res.detachSocket(socket);
  freeParser(parser, socket);
  socket.on('data', discard);
  // The client's FIN ends ours (Node's stream does it, no listener of our own per socket).
  socket.allowHalfOpen = false;
  socket.resume();
  detached++;
  return socket;
}

function isParser(parser: NodeParser | null | undefined): parser is NodeParser {
  return parser != null && ['unconsume', 'finish', 'remove', 'close'].every((m) => typeof (parser as unknown as Record<string, unknown>)[m] === 'function');
}

/** Node's `freeParser` minus the free list (not reachable from outside): the parser is closed. */
function freeParser(parser: NodeParser, socket: ServerSocket): void {
  if (parser._consumed === true) parser.unconsume();
  if (socket._handle) socket._handle._consumed = false;
  parser._consumed = false;
  parser.finish();
  parser.socket = null;
  parser.incoming = null;
  parser.outgoing = null;
  parser.onIncoming = null;
  parser.remove();
  socket.parser = null;
  // As Node does for parsers it does not keep: closed once the current execute() has returned.
  setImmediate(() => parser.close());
}

/** A subscriber has nothing more to say; pipelined requests are not served on a stream. */
function discard(): void {}
