import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

export interface FileWatchOptions {
  /** Quiet time after the last change before `onChange` runs (editors write in bursts). */
  readonly debounceMs?: number;
  /** The watch itself failed (its folder was removed, say); no more changes will be seen. */
  readonly onError?: (error: Error) => void;
}

export interface FileWatch {
  close(): void;
}

export const DEFAULT_WATCH_DEBOUNCE_MS = 150;

/**
 * Calls `onChange` once a burst of changes to `path` has settled. It watches the file's folder,
 * not the file: editors that save by writing a temporary file and renaming it over the
 * original replace the inode a file watch would follow, and a deleted file that comes back is
 * seen too (`onChange` runs for the deletion as well: loading then fails, which the caller
 * reports while keeping its config).
 *
 * ```ts
 * const watching = watchFile('kong.yml', () => void reload(), { onError: (e) => log(e) });
 * watching.close();
 * ```
 */
export function watchFile(path: string, onChange: () => void, options: FileWatchOptions = {}): FileWatch {
  const file = resolve(path);
  const name = basename(file);
  const debounceMs = options.debounceMs ?? DEFAULT_WATCH_DEBOUNCE_MS;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const watcher: FSWatcher = watch(dirname(file), (_event, changed) => {
    // Some platforms do not say which file changed: then any change in the folder counts.
    if (changed !== null && changed !== name) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (!closed) onChange();
    }, debounceMs);
  });
  watcher.on('error', (error: Error) => {
    clearTimeout(timer);
    options.onError?.(error);
  });
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      watcher.close();
    },
  };
}
