import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { GATEWAY_ERRORS, errorBody, type GatewayErrorCode } from './errors.ts';

/** Writes a gateway error as Kong-shaped JSON, unless the response has already started. */
export function sendError(res: ServerResponse, code: GatewayErrorCode, requestId?: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorBody(code, requestId);
  res.writeHead(GATEWAY_ERRORS[code].status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** Same answer written straight to a socket, for parse errors and failed upgrades. */
export function writeErrorToSocket(socket: Duplex, code: GatewayErrorCode, requestId?: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const { status } = GATEWAY_ERRORS[code];
  const body = errorBody(code, requestId);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
