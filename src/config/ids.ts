import { createHash, randomUUID } from 'node:crypto';
import { UUID_PATTERN } from './schema/common.ts';

/**
 * Entity ids for a declarative file that does not spell them out. Like Kong, an id is derived
 * from the entity type and its key (name, username, cache key...) as a UUIDv5, so the same
 * file loads with the same ids every time: router tie-breaks, caches and open subscriber
 * connections keyed by route id survive a reload. Random only when the entity has no key.
 */

/** Sluice's UUIDv5 namespace (a fixed random UUID). */
const NAMESPACE = Buffer.from('6f1c0b1e9a7d4c52b3a8e4f0d2c61a97', 'hex');
const UUID_RE = new RegExp(UUID_PATTERN);

export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

/** RFC 4122 version-5 UUID of `name` in Sluice's namespace. */
export function uuidV5(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The id for an entity: explicit (lower-cased), derived from its key, or random. */
export function entityId(type: string, explicit: string | undefined, key: string | undefined): string {
  if (explicit !== undefined) return explicit.toLowerCase();
  if (key !== undefined) return uuidV5(`${type}:${key}`);
  return randomUUID();
}
