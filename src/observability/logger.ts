import { pino, type Logger } from 'pino';
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

/** `auto` is pretty only for a person at a terminal; anything piped or captured gets JSON. */
export function isPretty(format: LogFormat, destination?: NodeJS.WritableStream): boolean {
  if (format === 'auto') return destination === undefined && process.stdout.isTTY === true;
  return format === 'pretty';
}

/** A logger that drops everything; for tests and embedding. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
