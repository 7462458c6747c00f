import { Transform, type TransformCallback } from 'node:stream';
import { GatewayError } from './errors.ts';

/**
 * Passes a request body through while counting it; fails with BODY_TOO_LARGE once more than
 * `limit` bytes went by. Chunked bodies have no Content-Length to check up front, so the limit
 * has to be enforced on the stream itself.
 */
export class BodyLimit extends Transform {
  private seen = 0;
  tripped = false;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) {
      this.tripped = true;
      callback(new GatewayError('BODY_TOO_LARGE'));
      return;
    }
    callback(null, chunk);
  }
}
