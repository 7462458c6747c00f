/**
 * A frame for a detached subscriber's socket (see detach.ts), handed straight to the socket's
 * libuv handle instead of through `socket.write`.
 *
 * In a fan-out every subscriber gets one small write. Through the Writable machinery each costs
 * a `WriteWrap` object, the stream state's bookkeeping and a `process.nextTick` for the write's
 * callback; in a 10k fan-out that was ≈ 10 % of the server's CPU per delivery (the rest is the
 * kernel's `write(2)`). Here a write the kernel takes at once reuses one request object and
 * leaves nothing behind. A write the kernel only partly takes stays queued in libuv, which also
 * keeps every later write behind it, and the waiter's `writeDone` runs once it is out: the
 * stream's backpressure signal, as `drain` is on the Writable path.
 *
 * Node's stream internals (`process.binding('stream_wrap')`: `WriteWrap`, `streamBaseState`) are
 * feature-detected once; when they are missing the caller writes through `socket.write`, as it
 * also does while the socket's Writable still holds bytes of its own (the head, a waiting ping).
 * Bytes written here count in `socket.bytesWritten` (the handle keeps that count), so access
 * lines and metrics see them.
 *
 * @example
 *   const now = writeNow(socket, bytes, subscriber); // subscriber.writeDone(error?) when queued
 *   const ok = now ?? socket.write(bytes);          // false: wait before writing more
 */
import type { Socket } from 'node:net';

/** Node's `WriteWrap`: the request object libuv completes when a write had to wait. */
interface WriteRequest {
  handle: unknown;
  oncomplete: ((status: number) => void) | null;
  buffer: Buffer | null;
}

interface StreamHandle {
  writeBuffer(req: WriteRequest, data: Buffer): number;
}

interface StreamWrapBinding {
  WriteWrap: new () => WriteRequest;
  streamBaseState: Int32Array;
  kLastWriteWasAsync: number;
}

const binding = loadStreamWrap();

/** Reused while writes complete at once: libuv only takes a request over when a write waits. */
let spare: WriteRequest | undefined;

/** Told when a queued write is out; an object rather than a callback: no closure per stream. */
export interface QueuedWriteWaiter {
  writeDone(error?: Error): void;
}

/**
 * Writes `bytes` to `socket`'s handle. `true`: the kernel has them; `false`: queued in libuv,
 * `waiter.writeDone` runs when they are out (with an error if the write failed); `undefined`:
 * not written, use `socket.write`. The caller makes sure the socket's Writable holds nothing
 * (nothing went through `socket.write`, or `socket.writableLength` is 0 again): those bytes
 * would otherwise be overtaken.
 */
export function writeNow(socket: Socket, bytes: Buffer, waiter: QueuedWriteWaiter): boolean | undefined {
  if (binding === undefined) return undefined;
  const handle = (socket as Socket & { _handle?: StreamHandle | null })._handle;
  if (handle == null) return undefined;
  const req = spare ?? new binding.WriteWrap();
  spare = undefined;
  req.handle = handle;
  // A failed write (the peer reset the connection): `socket.write` reports it the usual way.
  // The request is not reused: libuv may have taken it over before the error.
  if (handle.writeBuffer(req, bytes) !== 0) return undefined;
  if (binding.streamBaseState[binding.kLastWriteWasAsync] === 0) {
    spare = req;
    return true;
  }
  req.buffer = bytes; // libuv points into it until the write completes
  req.oncomplete = (status) => waiter.writeDone(status < 0 ? new Error(`write to subscriber failed (libuv status ${status})`) : undefined);
  return false;
}

/** Whether frames take the direct path in this Node.js (tests check it stays taken). */
export function directWritesAvailable(): boolean {
  return binding !== undefined;
}

function loadStreamWrap(): StreamWrapBinding | undefined {
  const proc = process as unknown as { binding?: (name: string) => unknown; noDeprecation?: boolean };
  // process.binding() is deprecated (DEP0111) for application code; this use is deliberate and
  // feature-detected, so the warning is not printed for it (later callers still get theirs).
  const quiet = proc.noDeprecation;
  proc.noDeprecation = true;
  try {
    const b = proc.binding?.('stream_wrap') as Partial<StreamWrapBinding> | undefined;
    const usable = typeof b?.WriteWrap === 'function' && b.streamBaseState instanceof Int32Array && typeof b.kLastWriteWasAsync === 'number';
    return usable ? (b as StreamWrapBinding) : undefined;
  } catch {
    return undefined;
  } finally {
    proc.noDeprecation = quiet;
  }
}
