import { pino, type Logger } from 'pino';
import { pinoLevel, type LogLevel } from '../config/settings.ts';

export type { Logger };

/**
 * The process logger: JSON lines on stdout, one object per event, so scripts can parse
 * start-up and access lines. `level` takes Kong's names (`notice`, `crit`, ...).
 */
export function createLogger(level: LogLevel = 'info', destination?: NodeJS.WritableStream): Logger {
  const options = { level: pinoLevel(level), base: { pid: process.pid }, messageKey: 'msg' };
  return destination ? pino(options, destination) : pino(options);
}

/** A logger that drops everything; for tests and embedding. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
