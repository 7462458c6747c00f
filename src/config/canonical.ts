import { createHash } from 'node:crypto';

/**
 * Canonical JSON (object keys sorted at every level) so equal configs hash equal whatever
 * their key order or YAML/JSON spelling — the basis of `Snapshot.hash` (Kong's
 * `configuration_hash`) and of content-derived ids.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

export function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}
