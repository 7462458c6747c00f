/**
 * Stream frames written straight to the client's socket once the response head is out.
 *
 * `ServerResponse.write` corks the socket, uncorks it on the next tick and frames every chunk
 * itself (hex length, data, CRLF). In a fan-out to 10k subscribers that meant nothing reached
 * the first client until the loop over every subscriber had finished, and three buffers per
 * delivery. Here a message's wire bytes (chunk framing included) are built once and shared by
 * every subscriber whose frame depends on the message alone, and each delivery is one
 * `socket.write`.
 *
 * On HTTP/2 the frames go to the response's h2 stream instead (DATA frames: no chunk framing,
 * mode `plain`); its flow control window is what fills up and pushes back on a slow reader.
 *
 * @example
 *   const wire = openWire(req, res);             // after writeHead + preamble
 *   const bytes = frames.wire(message, message.id, wire.mode, eventsourceFormat);
 *   if (bytes !== null) wire.out.write(bytes);
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import type { Message } from '../engine.ts';
import type { MessageId } from '../message-id.ts';

export type Chunk = string | Buffer;

/**
 * `chunked`: HTTP/1.1 chunked transfer coding; `plain`: the bytes as they are (HTTP/1.0, whose
 * body runs until the connection closes, and HTTP/2 streams).
 */
export type WireMode = 'chunked' | 'plain';

export interface Wire {
  /** The client's socket (HTTP/1.x) or the response's h2 stream. */
  readonly out: Writable;
  readonly mode: WireMode;
}

const CRLF = Buffer.from('\r\n');

/** One chunk's bytes on the wire in `mode`. */
export function encodeWire(chunk: Chunk, mode: WireMode): Buffer {
  const data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
  // An empty chunk would read as the chunked body's terminator: nothing to send instead.
  if (mode === 'plain' || data.length === 0) return data;
  return Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`, 'latin1'), data, CRLF]);
}

/**
 * Where to write frames, or `undefined` when the response must keep writing through `res` (no
 * socket attached yet, a HEAD request, or a response that is not the socket's current one).
 */
export function openWire(req: IncomingMessage, res: ServerResponse): Wire | undefined {
  if (req.httpVersionMajor === 2) {
    const stream = (res as ServerResponse & { stream?: ServerHttp2Stream }).stream;
    if (stream === undefined || stream.destroyed || req.method === 'HEAD' || !res.headersSent) return undefined;
    return { out: stream, mode: 'plain' };
  }
  const socket = res.socket as (Socket & { _httpMessage?: unknown }) | null;
  if (socket === null || req.method === 'HEAD' || socket._httpMessage !== res || !res.headersSent) return undefined;
  const chunked = (res as ServerResponse & { chunkedEncoding?: boolean }).chunkedEncoding === true;
  return { out: socket, mode: chunked ? 'chunked' : 'plain' };
}

interface Frames {
  chunked?: Buffer | null;
  plain?: Buffer | null;
}

/** What builds a message's frame (a stream format). */
export interface FrameSource {
  frame(message: Message, id: MessageId): Chunk | undefined;
}

/**
 * Wire bytes per message, shared across subscribers. Only for frames that depend on the message
 * alone (single-channel subscribers, whose id is the message's own). Entries go with the message;
 * the latest message is also kept at hand, since a fan-out asks for it once per subscriber.
 */
export class FrameCache {
  private readonly frames = new WeakMap<Message, Frames>();
  private latest: Message | undefined;
  private latestFrames: Frames = {};

  /** The cached bytes, built by `source` on first use; `null` when the format skips the message. */
  wire(message: Message, id: MessageId, mode: WireMode, source: FrameSource): Buffer | null {
    let entry = message === this.latest ? this.latestFrames : this.frames.get(message);
    if (entry === undefined) {
      entry = {};
      this.frames.set(message, entry);
    }
    this.latest = message;
    this.latestFrames = entry;
    let bytes = entry[mode];
    if (bytes === undefined) {
      const chunk = source.frame(message, id);
      bytes = chunk === undefined ? null : encodeWire(chunk, mode);
      entry[mode] = bytes;
    }
    return bytes;
  }
}
