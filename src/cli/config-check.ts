import { formatConfigError, loadDeclarativeFile } from '../config/load.ts';
import { createBundledRegistry, type PluginRegistry } from '../plugins/registry.ts';

/**
 * `sluice config check <file>` (Kong's `kong config parse`): full validation of a declarative
 * file — schemas, plugin configs, references, uniqueness — without starting anything.
 * Prints `ok: <summary>` and returns 0, or prints every error as `file:line:column: ...`
 * followed by `N errors` and returns 1.
 */
export async function runConfigCheck(
  file: string,
  io: { out: (s: string) => void; err: (s: string) => void },
  registry: PluginRegistry = createBundledRegistry(),
): Promise<number> {
  const result = await loadDeclarativeFile(file, { registry, filename: file });
  if (result.ok) {
    io.out(`ok: ${result.summary}`);
    return 0;
  }
  for (const error of result.errors) io.err(formatConfigError(error));
  const n = result.errors.length;
  io.err(`${n} ${n === 1 ? 'error' : 'errors'}`);
  return 1;
}
