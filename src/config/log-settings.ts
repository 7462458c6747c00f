/**
 * The logging node settings: `log_level` takes Kong's level names, which pino does not all
 * have, so {@link pinoLevel} maps them; `log_format` picks JSON lines or pino-pretty.
 *
 * @example
 *   pinoLevel(parseLogLevel('crit')); // 'fatal'
 */

export type LogLevel = 'debug' | 'info' | 'notice' | 'warn' | 'error' | 'crit' | 'alert' | 'emerg';
const LOG_LEVELS: Record<LogLevel, string> = {
  debug: 'debug',
  info: 'info',
  notice: 'info',
  warn: 'warn',
  error: 'error',
  crit: 'fatal',
  alert: 'fatal',
  emerg: 'fatal',
};

export type LogFormat = 'json' | 'pretty' | 'auto';

export function pinoLevel(level: LogLevel): string {
  return LOG_LEVELS[level];
}

export function parseLogLevel(value: string): LogLevel {
  const v = value.toLowerCase();
  if (!(v in LOG_LEVELS)) throw new Error(`invalid log level "${value}" (use ${Object.keys(LOG_LEVELS).join(', ')})`);
  return v as LogLevel;
}

export function parseLogFormat(value: string): LogFormat {
  const v = value.toLowerCase();
  if (v === 'json' || v === 'pretty' || v === 'auto') return v;
  throw new Error(`invalid log format "${value}" (use json, pretty or auto)`);
}
