/**
 * `sluice config diff old.yml new.yml`: loads both files with the real loader (every check of
 * `config check`) and prints what changed, by entity type and name:
 *
 * ```text
 * services
 *   + billing
 *   ~ echo: port, retries
 * routes
 *   - legacy
 * 1 added, 1 removed, 1 changed
 * ```
 *
 * `no differences` when the configs are the same. Exit 0 either way; exit 1 (with every error as
 * `file:line:column: ...`) when a file does not load.
 */
import { formatConfigError, loadDeclarativeFile, type LoadResult } from '../config/load.ts';
import type { Snapshot } from '../config/types.ts';
import type { PluginRegistry } from '../plugins/registry.ts';
import { diffSnapshots, type TypeDiff } from './entity-diff.ts';

const MARK = { added: '+', removed: '-', changed: '~' } as const;

export function formatDiff(diff: readonly TypeDiff[]): string[] {
  if (diff.length === 0) return ['no differences'];
  const lines: string[] = [];
  const count = { added: 0, removed: 0, changed: 0 };
  for (const { type, changes } of diff) {
    lines.push(type);
    for (const c of changes) {
      count[c.kind]++;
      lines.push(`  ${MARK[c.kind]} ${c.name}${c.kind === 'changed' ? `: ${c.fields.join(', ')}` : ''}`);
    }
  }
  lines.push(`${count.added} added, ${count.removed} removed, ${count.changed} changed`);
  return lines;
}

export async function runConfigDiff(
  files: readonly [string, string],
  io: { out: (s: string) => void; err: (s: string) => void },
  registry: PluginRegistry,
): Promise<number> {
  const results: LoadResult[] = [];
  for (const file of files) results.push(await loadDeclarativeFile(file, { registry, filename: file }));
  const snapshots: Snapshot[] = [];
  let errors = 0;
  for (const result of results) {
    if (result.ok) snapshots.push(result.snapshot);
    else {
      for (const error of result.errors) io.err(formatConfigError(error));
      errors += result.errors.length;
    }
  }
  const [before, after] = snapshots;
  if (errors > 0 || before === undefined || after === undefined) {
    io.err(`${errors} ${errors === 1 ? 'error' : 'errors'}`);
    return 1;
  }
  for (const line of formatDiff(diffSnapshots(before, after))) io.out(line);
  return 0;
}
