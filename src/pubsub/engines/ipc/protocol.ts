/**
 * The wire protocol between `ipc` engines (in worker processes) and the engine host (in the
 * primary): calls with ids, replies, and channel events. Every message carries
 * `kind: 'sluice:engine'` so it can share a channel (the cluster IPC pipe) with other traffic.
 *
 * Messages travel by structured clone (cluster `serialization: 'advanced'`, or a
 * `MessagePort`): Buffers may arrive as plain `Uint8Array`s, so receivers revive them.
 *
 * @example
 *   port.send({ kind: ENGINE_KIND, t: 'call', id: 1, op: 'info', args: ['chat'] });
 *   // ← { kind: ENGINE_KIND, t: 'reply', id: 1, ok: true, value: { messages: 0, … } }
 */
import type {
  AddSubscriberOptions, ChannelEvent, ChannelStorage, Cursor, Message, PublishInput,
} from '../../engine.ts';
import type { PubsubErrorCode } from '../../errors.ts';

export const ENGINE_KIND = 'sluice:engine';

/** The engine calls a worker makes, with their arguments. `listen`/`unlisten` drive the live feeds. */
export interface EngineCalls {
  publish: [channel: string, input: PublishInput, storage: ChannelStorage];
  fetch: [channel: string, cursor: Cursor];
  info: [channel: string];
  addSubscriber: [channel: string, options: AddSubscriberOptions];
  removeSubscriber: [channel: string];
  delete: [channel: string];
  stats: [];
  channels: [prefix: string, cursor: string | null, limit: number];
  /** Start receiving this channel's events (once per worker, whatever its local listener count). */
  listen: [channel: string];
  unlisten: [channel: string];
  /** The worker's engine is closing: release its feeds and subscriber counts. */
  detach: [];
}

export type EngineOp = keyof EngineCalls;

export type CallMessage = {
  [K in EngineOp]: { readonly kind: typeof ENGINE_KIND; readonly t: 'call'; readonly id: number; readonly op: K; readonly args: EngineCalls[K] };
}[EngineOp];

export interface WireError {
  readonly code?: PubsubErrorCode;
  readonly message: string;
}

export type ReplyMessage =
  | { readonly kind: typeof ENGINE_KIND; readonly t: 'reply'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly kind: typeof ENGINE_KIND; readonly t: 'reply'; readonly id: number; readonly ok: false; readonly error: WireError };

export interface EventMessage {
  readonly kind: typeof ENGINE_KIND;
  readonly t: 'event';
  readonly channel: string;
  readonly event: ChannelEvent;
}

export type EngineMessage = CallMessage | ReplyMessage | EventMessage;

/**
 * One end of a message pipe: the cluster IPC channel of a worker (either side) or a
 * `MessagePort` in tests. `onMessage` returns a function that removes the handler.
 */
export interface EnginePort {
  send(message: EngineMessage): void;
  onMessage(handler: (message: unknown) => void): () => void;
  /** Called once when the other end is gone (worker exited, primary died); optional. */
  onClose?(handler: () => void): () => void;
}

const OPS: ReadonlySet<string> = new Set<EngineOp>([
  'publish', 'fetch', 'info', 'addSubscriber', 'removeSubscriber', 'delete', 'stats', 'channels', 'listen', 'unlisten', 'detach',
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** True for anything of this protocol (other cluster messages are left to their owners). */
export function isEngineMessage(value: unknown): value is { kind: typeof ENGINE_KIND; t: unknown } {
  return isRecord(value) && value.kind === ENGINE_KIND;
}

/**
 * Checks a call's envelope (kind, id, known op, args array). Argument contents are the
 * engine's to check; a worker is our own code, so this guards against bugs, not attackers.
 */
export function asCall(value: unknown): CallMessage | undefined {
  if (!isEngineMessage(value) || value.t !== 'call') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.id !== 'number' || typeof v.op !== 'string' || !OPS.has(v.op) || !Array.isArray(v.args)) return undefined;
  return value as unknown as CallMessage;
}

/** A Buffer again, whatever the structured clone made of it. */
export function reviveBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export function reviveMessage(message: Message): Message {
  return Buffer.isBuffer(message.data) ? message : { ...message, data: reviveBuffer(message.data) };
}
