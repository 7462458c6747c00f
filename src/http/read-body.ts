/**
 * Reads a whole request body with a size bound: a declared Content-Length past `limit` fails
 * before anything is read (the rest is discarded), a chunked body fails as soon as it passes the
 * bound, and nothing past it is kept in memory.
 *
 * @example
 *   const body = await readBoundedBody(req, 1 << 20, { tooLarge: () => new Error('413') });
 */
import type { IncomingMessage } from 'node:http';

export interface BodyErrors {
  /** The error to reject with past the bound. */
  readonly tooLarge: () => Error;
  /** The error to reject with when the body cannot be read (the client went away); default: the stream's own. */
  readonly unreadable?: (cause: Error) => Error;
}

/** Resolves with the body bytes; `limit` 0 means no bound. */
export function readBoundedBody(req: IncomingMessage, limit: number, errors: BodyErrors): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (limit > 0 && Number.isFinite(declared) && declared > limit) {
    req.resume(); // discard what comes
    return Promise.reject(errors.tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (limit > 0 && size > limit) {
        failed = true;
        chunks.length = 0;
        reject(errors.tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (cause) => {
      if (!failed) reject(errors.unreadable ? errors.unreadable(cause) : cause);
      failed = true;
    });
  });
}
