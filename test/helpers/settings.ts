/**
 * Node settings for tests: resolve them from an env map, flags and an optional settings file.
 *
 * @example
 *   settings({ SLUICE_ENGINE: 'redis' }, { redis_url: 'redis://h' });
 *   settings({}, {}, confFile('proxy_listen = 127.0.0.1:0\n'));
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSettings, type SettingName } from '../../src/config/settings.ts';

export function settings(env: Record<string, string> = {}, flags: Partial<Record<SettingName, string>> = {}, file?: string) {
  return resolveSettings({ ...(file ? { file } : {}), env, flags });
}

/** Writes `text` to a fresh `sluice.conf` and returns its path. */
export function confFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'sluice-settings-')), 'sluice.conf');
  writeFileSync(path, text);
  return path;
}
