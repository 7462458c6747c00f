import { pino, type Logger } from 'pino';

export type { Logger };

/** Kong's log level names mapped onto pino's. */
const LEVELS: Record<string, string> = {
  debug: 'debug',
  info: 'info',
  notice: 'info',
  warn: 'warn',
  error: 'error',
  crit: 'fatal',
  alert: 'fatal',
  emerg: 'fatal',
  silent: 'silent',
};

/**
 * The process logger: JSON lines on stdout, one object per event, so scripts can parse
 * start-up and access lines. `level` takes Kong's names (`notice`, `crit`, ...) or pino's.
 */
export function createLogger(level = 'info', destination?: NodeJS.WritableStream): Logger {
  const options = { level: LEVELS[level] ?? level, base: { pid: process.pid }, messageKey: 'msg' };
  return destination ? pino(options, destination) : pino(options);
}

/** A logger that drops everything; for tests and embedding. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
