import { readFile } from 'node:fs/promises';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import type { PluginRegistry } from '../plugins/registry.ts';
import { canonicalJson, md5 } from './canonical.ts';
import { collectEntities } from './collect.ts';
import { ErrorSink, formatConfigError, type ConfigError } from './errors.ts';
import { migrateRoutePaths } from './migrate.ts';
import { resolveSnapshot } from './resolve.ts';
import { DeclarativeConfigEntity, SUPPORTED_FORMAT_VERSIONS } from './schema/root.ts';
import { schemaIssues } from './schema-errors.ts';
import { parseSource } from './source-map.ts';
import type { Snapshot } from './types.ts';

/**
 * Loads a Kong declarative file (`_format_version: "3.0"`, also "2.1"/"1.1" with Kong's
 * regex-path migration) into a resolved {@link Snapshot}. All problems are collected and
 * returned together, each at its `file:line:column`, so one `sluice config check` run shows
 * everything; nothing is ever silently dropped.
 *
 * ```ts
 * const result = loadDeclarativeConfig(text, { filename: 'kong.yml', registry });
 * if (!result.ok) result.errors.map(formatConfigError).forEach((l) => console.error(l));
 * ```
 */

export { formatConfigError, type ConfigError };

export type LoadResult = { ok: true; snapshot: Snapshot; summary: string } | { ok: false; errors: ConfigError[] };

export interface LoadOptions {
  /** Shown in errors and the summary. */
  readonly filename: string;
  readonly registry: PluginRegistry;
}

const rootCheck = TypeCompiler.Compile(DeclarativeConfigEntity.shallow);

export function loadDeclarativeConfig(text: string, options: LoadOptions): LoadResult {
  const file = options.filename;
  const parsed = parseSource(text);
  if (!parsed.ok) {
    return {
      ok: false,
      errors: parsed.problems.map((p) => ({ entityPath: '', message: `invalid YAML: ${p.message}`, file, line: p.line, column: p.column })),
    };
  }
  const { source } = parsed;
  const sink = new ErrorSink(file, source);
  const input = source.value;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    sink.add([], `expected a mapping with '_format_version' at the top level, got ${input === null || input === undefined ? 'an empty document' : Array.isArray(input) ? 'a list' : typeof input}`);
    return { ok: false, errors: sink.sorted() };
  }
  const root = Value.Clone(input) as Record<string, unknown>;

  const version = checkFormatVersion(root, sink);
  if (version === '1.1' || version === '2.1') migrateRoutePaths(root);

  for (const issue of schemaIssues(rootCheck, Value.Default(DeclarativeConfigEntity.shallow, Value.Clone(root)))) {
    // `_format_version` problems were reported above with a better message.
    if (issue.path[0] === '_format_version' || issue.message.includes("'_format_version'")) continue;
    const message = issue.path.length === 1 && issue.atKey ? `unknown top-level key '${String(issue.path[0])}'` : issue.message;
    sink.add(issue.path, message, { atKey: issue.atKey });
  }

  const collected = collectEntities(root, sink, source);
  const snapshot = resolveSnapshot(collected, {
    sink,
    registry: options.registry,
    transform: root._transform !== false,
    hash: md5(canonicalJson(input)),
  });
  if (!snapshot || sink.errors.length > 0) return { ok: false, errors: sink.sorted() };
  return { ok: true, snapshot, summary: summarize(file, snapshot) };
}

/** Reads and loads a file; an unreadable file is one error at 1:1. */
export async function loadDeclarativeFile(path: string, options: { registry: PluginRegistry; filename?: string }): Promise<LoadResult> {
  const file = options.filename ?? path;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { ok: false, errors: [{ entityPath: '', message: `cannot read declarative config: ${reason}`, file, line: 1, column: 1 }] };
  }
  return loadDeclarativeConfig(text, { filename: file, registry: options.registry });
}

function checkFormatVersion(root: Readonly<Record<string, unknown>>, sink: ErrorSink): string | undefined {
  const supported = SUPPORTED_FORMAT_VERSIONS.map((v) => `"${v}"`).join(', ');
  const version = root._format_version;
  if (version === undefined) {
    sink.add([], `missing '_format_version' (supported: ${supported}; Sluice writes "3.0")`);
    return undefined;
  }
  if (typeof version !== 'string') {
    sink.add(['_format_version'], `'_format_version' must be a string: quote it, e.g. _format_version: "3.0"`);
    return undefined;
  }
  if (!(SUPPORTED_FORMAT_VERSIONS as readonly string[]).includes(version)) {
    sink.add(['_format_version'], `unsupported _format_version "${version}" (supported: ${supported})`);
    return undefined;
  }
  return version;
}

/** `kong.yml: 3 services, 5 routes, 2 consumers, 4 plugins, 1 upstreams, 0 certificates` */
export function summarize(file: string, s: Snapshot): string {
  const parts = [
    `${s.services.size} services`,
    `${s.routes.length} routes`,
    `${s.consumers.size} consumers`,
    `${s.plugins.length} plugins`,
    `${s.upstreams.size} upstreams`,
    `${s.certificates.size} certificates`,
  ];
  if (s.channels.length > 0) parts.push(`${s.channels.length} channels`);
  return `${file}: ${parts.join(', ')}`;
}
