/**
 * The kong.conf-style settings file: `key = value` lines, `#` comments. Each value keeps the
 * `file:line` it came from, so a bad value is reported where the operator can find it.
 *
 * @example
 *   parseSettingsText('proxy_listen = 0.0.0.0:80', 'sluice.conf').get('proxy_listen');
 *   // { value: '0.0.0.0:80', source: 'sluice.conf:1: proxy_listen' }
 */
import { readFileSync } from 'node:fs';
import { SettingsError } from './settings-error.ts';
import { SPEC_BY_NAME, type SettingName } from './settings-table.ts';

/** A raw value and the human-readable source it came from (`SLUICE_PROXY_LISTEN`, `sluice.conf:3`). */
export interface Sourced {
  readonly value: string;
  readonly source: string;
}

/** kong.conf syntax: `key = value`, `#` starts a comment (`\#` is a literal `#`). */
export function readSettingsFile(path: string): Map<SettingName, Sourced> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SettingsError(`${path}: cannot read settings file: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseSettingsText(text, path);
}

export function parseSettingsText(text: string, filename: string): Map<SettingName, Sourced> {
  const out = new Map<SettingName, Sourced>();
  text.split(/\r?\n/).forEach((line, i) => {
    const where = `${filename}:${i + 1}`;
    const content = line.replace(/(^|[^\\])#.*$/, '$1').replace(/\\#/g, '#').trim();
    if (content === '') return;
    const eq = content.indexOf('=');
    if (eq === -1) throw new SettingsError(`${where}: expected 'key = value', got "${content}"`);
    const key = content.slice(0, eq).trim().toLowerCase();
    const value = content.slice(eq + 1).trim();
    if (!SPEC_BY_NAME.has(key as SettingName)) throw new SettingsError(`${where}: unknown setting '${key}'`);
    if (value !== '') out.set(key as SettingName, { value, source: `${where}: ${key}` });
  });
  return out;
}
