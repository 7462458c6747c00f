/**
 * multipart/mixed subscribers (`Accept: multipart/mixed`), as nchan:
 *
 * - head and preamble at once: `Content-Type: multipart/mixed; boundary=<random per subscriber>`,
 *   body starting `--<boundary>`;
 * - each part: `\r\n` + `Last-Modified` (the id's seconds), `Etag` (the tag part, e.g. `[0],-`),
 *   `Content-Type` when the message has one, a blank line, the data, then `\r\n--<boundary>`:
 *   the next boundary terminates the part, with no trailing newline;
 * - when the subscription ends (deleted channel, slow consumer, hub closing) the body closes
 *   with `--\r\n` (the final `--<boundary>--`).
 *
 * @example
 *   await multipartTransport.serve(exchange);
 */
import { randomBytes } from 'node:crypto';
import type { Message } from '../engine.ts';
import { toHttpHeaders, type MessageId } from '../message-id.ts';
import { serveStream } from './stream.ts';
import type { SubscriberExchange, Transport } from './types.ts';

export function newBoundary(): string {
  return randomBytes(16).toString('hex');
}

export function multipartPart(message: Message, id: MessageId, boundary: string): Buffer {
  const { lastModified, etag } = toHttpHeaders(id);
  let head = `\r\nLast-Modified: ${lastModified}\r\nEtag: ${etag}\r\n`;
  if (message.contentType !== undefined && message.contentType !== '') head += `Content-Type: ${message.contentType.replace(/[\r\n]/g, ' ')}\r\n`;
  return Buffer.concat([Buffer.from(`${head}\r\n`), message.data, Buffer.from(`\r\n--${boundary}`)]);
}

export const multipartTransport: Transport = {
  name: 'multipart',
  serve(exchange: SubscriberExchange): Promise<void> {
    const boundary = newBoundary();
    return serveStream(exchange, {
      headers: { 'content-type': `multipart/mixed; boundary=${boundary}` },
      preamble: `--${boundary}`,
      frame: (message, id) => multipartPart(message, id, boundary),
      farewell: () => '--\r\n',
    });
  },
};
