import { destination as pinoDestination, pino, type Logger } from 'pino';
import { build as prettyStream } from 'pino-pretty';
import { pinoLevel, type LogFormat, type LogLevel } from '../config/settings.ts';

export type { Logger };

/**
 * The process logger: JSON lines on stdout, one object per event, so scripts can parse
 * start-up and access lines. `level` takes Kong's names (`notice`, `crit`, ...). `format`
 * `pretty` renders the same events for people (pino-pretty, in this thread, synchronously);
 * `auto` does so only when stdout is a terminal and no destination is given.
 *
 * ```ts
 * const logger = createLogger('info');                    // JSON on stdout (pretty on a TTY)
 * const lines: string[] = [];
 * createLogger('debug', new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } }));
 * ```
 */
export function createLogger(level: LogLevel = 'info', destination?: NodeJS.WritableStream, format: LogFormat = 'auto'): Logger {
  const options = { level: pinoLevel(level), base: { pid: process.pid }, messageKey: 'msg' };
  if (isPretty(format, destination)) {
    return pino(options, prettyStream({ colorize: destination === undefined && process.stdout.isTTY === true, sync: true, ...(destination ? { destination } : {}) }));
  }
  return destination ? pino(options, destination) : pino(options);
}

/** Access lines wait at most this long in the buffer before they are written. */
const ACCESS_FLUSH_MS = 100;

/**
 * The logger for access lines (one per request): the same JSON on stdout, written in batches of
 * up to 8 KiB at least every 100 ms instead of one `write` per request (what nginx's
 * `access_log ... buffer=` does). Lines still buffered are written when the process exits. Pretty
 * output stays line by line: it is for a person at a terminal, not for load.
 */
export function createAccessLogger(level: LogLevel = 'info', format: LogFormat = 'auto'): Logger {
  if (isPretty(format)) return createLogger(level, undefined, format);
  const destination = pinoDestination({ dest: 1, sync: false, minLength: 8 * 1024 });
  const timer = setInterval(() => destination.flush(), ACCESS_FLUSH_MS);
  timer.unref();
  process.once('exit', () => {
    try {
      destination.flushSync();
    } catch {
      // stdout already gone: nothing left to tell
    }
  });
  return pino({ level: pinoLevel(level), base: { pid: process.pid }, messageKey: 'msg' }, destination);
}

/** `auto` is pretty only for a person at a terminal; anything piped or captured gets JSON. */
export function isPretty(format: LogFormat, destination?: NodeJS.WritableStream): boolean {
  if (format === 'auto') return destination === undefined && process.stdout.isTTY === true;
  return format === 'pretty';
}

/** A logger that drops everything; for tests and embedding. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
