/**
 * The fan-out benchmark's subscribers, in their own process (started by `bench/fanout.ts` with an
 * IPC channel) so that reading 10,000 streams does not share an event loop with the parent.
 *
 * N raw HTTP/1.1 keep-alive connections over `net` (no EventSource library): each sends
 * `GET <path>` with `Accept: text/event-stream`, checks for a `200` head, undoes chunked transfer
 * coding when the server uses it, and counts `data:` lines. Reads go into one shared buffer
 * (`onread`), so a delivery costs a callback and a byte scan, no allocation.
 *
 * Parent → child: `{ cmd: 'connect', host, port, path, count, concurrency }`, `{ cmd: 'exit' }`.
 * Child → parent: `{ type: 'connected', ok, failed, ms }` once every connection has its head (or
 * failed); `{ type: 'delivered', k, firstNs, lastNs }` when every open connection has seen its
 * k-th `data:` line (times from `process.hrtime.bigint()`: CLOCK_MONOTONIC, the same clock in
 * every process on the machine); `{ type: 'lost', count }` when connections close early.
 */
import { connect } from 'node:net';

const shared = Buffer.allocUnsafe(64 * 1024);
const DATA = [0x64, 0x61, 0x74, 0x61, 0x3a]; // "data:"
const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Per message index: how many connections have seen it, and when the first one did. */
const reached = [];
const firstAt = [];
let open = 0;
let lost = 0;

function send(message) {
  process.send?.(message);
}

function seen(k) {
  const now = process.hrtime.bigint();
  const n = (reached[k] ?? 0) + 1;
  reached[k] = n;
  if (n === 1) firstAt[k] = now;
  if (n === open) send({ type: 'delivered', k, firstNs: String(firstAt[k]), lastNs: String(now) });
}

class Subscriber {
  constructor() {
    this.head = null; // bytes of the response head until it is complete, then null
    this.inHead = true;
    this.chunked = false;
    this.chunkLeft = 0; // bytes of chunk data left (chunked mode)
    this.sizeState = 0; // 0: reading hex size, 1: skipping to LF after size, 2: CR LF after data
    this.size = 0;
    this.lineStart = true; // at the start of an SSE line
    this.match = -1; // bytes of "data:" matched at a line start, -1 when not in a match
    this.count = 0;
  }

  /** Body bytes of the event stream. */
  scan(buf, from, to) {
    for (let i = from; i < to; i++) {
      const b = buf[i];
      if (b === 0x0a || b === 0x0d) {
        this.lineStart = true;
        this.match = -1;
        continue;
      }
      if (this.lineStart) {
        this.lineStart = false;
        this.match = b === DATA[0] ? 1 : -1;
      } else if (this.match > 0) {
        this.match = b === DATA[this.match] ? this.match + 1 : -1;
      } else continue;
      if (this.match === DATA.length) {
        this.match = -1;
        this.count++;
        seen(this.count);
      }
    }
  }

  /** Body bytes as they came off the wire (chunked or not). */
  body(buf, from, to) {
    if (!this.chunked) return this.scan(buf, from, to);
    let i = from;
    while (i < to) {
      if (this.chunkLeft > 0) {
        const end = Math.min(to, i + this.chunkLeft);
        this.scan(buf, i, end);
        this.chunkLeft -= end - i;
        i = end;
        if (this.chunkLeft === 0) this.sizeState = 2;
        continue;
      }
      const b = buf[i++];
      if (this.sizeState === 2) {
        if (b === 0x0a) this.sizeState = 0;
      } else if (this.sizeState === 0) {
        const digit = b >= 0x30 && b <= 0x39 ? b - 0x30 : b >= 0x61 && b <= 0x66 ? b - 0x57 : b >= 0x41 && b <= 0x46 ? b - 0x37 : -1;
        if (digit >= 0) this.size = this.size * 16 + digit;
        else this.sizeState = b === 0x0a ? 0 : 1;
        if (b === 0x0a) this.startChunk();
      } else if (b === 0x0a) {
        this.sizeState = 0;
        this.startChunk();
      }
    }
  }

  startChunk() {
    this.chunkLeft = this.size;
    this.size = 0;
    if (this.chunkLeft === 0) this.sizeState = 2; // last chunk (or an empty one): wait for CRLF
  }

  /** Returns true once the head is complete and was a 200. Throws on a bad head. */
  read(buf, n) {
    if (!this.inHead) {
      this.body(buf, 0, n);
      return false;
    }
    const bytes = this.head ? Buffer.concat([this.head, buf.subarray(0, n)]) : Buffer.from(buf.subarray(0, n));
    const end = bytes.indexOf(CRLFCRLF);
    if (end < 0) {
      this.head = bytes;
      return false;
    }
    const head = bytes.subarray(0, end).toString('latin1');
    if (!/^HTTP\/1\.1 200 /.test(head)) throw new Error(`unexpected head: ${head.split('\r\n')[0]}`);
    this.chunked = /\r\ntransfer-encoding:\s*chunked/i.test(head);
    this.inHead = false;
    this.head = null;
    this.body(bytes, end + 4, bytes.length);
    return true;
  }
}

function connectAll({ host, port, path, count, concurrency }) {
  const started = process.hrtime.bigint();
  const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nAccept: text/event-stream\r\nConnection: keep-alive\r\n\r\n`);
  let started_ = 0;
  let settled = 0;
  let failed = 0;
  let firstError;
  const settle = (ok, error) => {
    settled++;
    if (ok) open++;
    else {
      failed++;
      firstError ??= error;
    }
    if (started_ < count) start();
    if (settled === count) {
      send({ type: 'connected', ok: open, failed, ms: Number(process.hrtime.bigint() - started) / 1e6, error: firstError });
    }
  };
  const start = () => {
    started_++;
    const sub = new Subscriber();
    let ready = false;
    let done = false;
    const socket = connect({
      host,
      port,
      noDelay: true,
      onread: {
        buffer: shared,
        callback: (n, buf) => {
          try {
            if (sub.read(buf, n) && !done) {
              ready = done = true;
              settle(true);
            }
          } catch (e) {
            socket.destroy(e);
          }
          return true;
        },
      },
    });
    socket.on('connect', () => socket.write(request));
    socket.on('error', (e) => {
      if (!done) {
        done = true;
        settle(false, String(e.message));
      }
    });
    socket.on('close', () => {
      if (!done) {
        done = true;
        settle(false, 'closed before the head');
      } else if (ready) {
        lost++;
        open--;
        send({ type: 'lost', count: lost });
      }
    });
  };
  for (let i = 0; i < Math.min(concurrency, count); i++) start();
}

process.on('message', (message) => {
  if (message.cmd === 'connect') connectAll(message);
  else if (message.cmd === 'exit') process.exit(0);
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
