import type { AddressInfo, Server } from 'node:net';

/** One address a listener binds, parsed from e.g. `0.0.0.0:8000` or `[::1]:8001 ssl`. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  readonly ssl?: boolean;
  readonly http2?: boolean;
}

/** Raised when a listener cannot bind; the CLI turns it into a one-line error and exit 1. */
export class ListenError extends Error {
  readonly code: string;
  constructor(listener: string, address: ListenAddress, cause: NodeJS.ErrnoException) {
    const where = formatHostPort(address.host, address.port);
    const reason = cause.code === 'EADDRINUSE' ? 'address already in use' : cause.code === 'EACCES' ? 'permission denied' : cause.message;
    super(`cannot listen on ${where} for the ${listener} listener: ${reason}`, { cause });
    this.name = 'ListenError';
    this.code = cause.code ?? 'ELISTEN';
  }
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Binds `server` to `address`; resolves with the bound address (port 0 becomes the real port). */
export function listen(server: Server, listener: string, address: ListenAddress): Promise<string> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(new ListenError(listener, address, error));
    server.once('error', onError);
    server.listen({ host: address.host, port: address.port }, () => {
      server.off('error', onError);
      const bound = server.address() as AddressInfo;
      resolve(formatHostPort(bound.address, bound.port));
    });
  });
}
