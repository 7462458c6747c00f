import type { ConfigPath, SourceMap } from './source-map.ts';
import { formatPath } from './source-map.ts';

/**
 * Declarative-config errors. Every error carries the entity path (what to fix) and the
 * file position (where), and the loader collects all of them so one run of
 * `sluice config check` shows everything that is wrong.
 */

export interface ConfigError {
  /** e.g. `services[0].routes[1].paths[0]`; empty for the file as a whole. */
  readonly entityPath: string;
  /** e.g. `route "orders"`, when the entity has a name. */
  readonly entity?: string;
  readonly message: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** `kong.yml:12:9: services[0].routes[1].paths[0] (route "orders"): invalid regex ...` */
export function formatConfigError(e: ConfigError): string {
  let where = e.entityPath;
  if (e.entity) where = where === '' ? `(${e.entity})` : `${where} (${e.entity})`;
  return `${e.file}:${e.line}:${e.column}: ${where === '' ? '' : `${where}: `}${e.message}`;
}

/** Collects errors, turning config paths into file positions. */
export class ErrorSink {
  readonly errors: ConfigError[] = [];

  constructor(
    private readonly file: string,
    private readonly source: SourceMap | undefined,
  ) {}

  add(path: ConfigPath, message: string, options: { entity?: string; atKey?: boolean } = {}): void {
    const pos = this.source?.locate(path, { key: options.atKey === true }) ?? { line: 1, column: 1 };
    this.errors.push({
      entityPath: formatPath(path),
      ...(options.entity !== undefined ? { entity: options.entity } : {}),
      message,
      file: this.file,
      line: pos.line,
      column: pos.column,
    });
  }

  /** Errors in file order, so the output reads top to bottom. */
  sorted(): ConfigError[] {
    return [...this.errors].sort((a, b) => a.line - b.line || a.column - b.column);
  }
}
