import { createHash, hash, randomBytes } from 'node:crypto';
import type { Consumer, Credential, Snapshot } from '../../../config/types.ts';

/**
 * key-auth credentials of one snapshot, indexed so that a lookup does not leak the key through
 * timing. A Map keyed by the raw key would compare the client's guess against stored keys
 * byte by byte (hash collisions in the bucket, string equality); keyed by a SHA-256 digest of
 * the key under a secret drawn once per process, what the Map compares is a digest the client
 * cannot steer.
 *
 * The digest is SHA-256(secret ‖ key), one one-shot `crypto.hash` call (about a third of the
 * cost of `createHmac(...).update(...).digest()`, which builds a native object per request).
 * HMAC's extra layer guards against length extension, which needs a digest to extend: these
 * never leave the process, so the prefix construction hides the keys just as well. The secret is
 * 64 hex characters, exactly one SHA-256 block, so the key starts a block of its own.
 */

/** Per-process secret; never leaves this module. */
const SECRET = randomBytes(32).toString('hex');

/** `crypto.hash` is Node ≥ 20.12; the same digest through a Hash object before that. */
const sha256 = typeof hash === 'function' ? (data: string) => hash('sha256', data, 'base64') : (data: string) => createHash('sha256').update(data).digest('base64');

function digest(key: string): string {
  return sha256(SECRET + key);
}

/** Where TTLs are measured from; replaced by tests to move time without sleeping. */
export const keyAuthClock = { now: (): number => Date.now() };

export interface KeyMatch {
  readonly credential: Credential;
  readonly consumer: Consumer;
}

interface Entry extends KeyMatch {
  /** Epoch ms after which the key no longer authenticates; undefined = never. */
  readonly expiresAt: number | undefined;
}

export class KeyIndex {
  readonly #byDigest = new Map<string, Entry>();

  /**
   * `loadedAt` anchors the credentials' `ttl` (seconds): Kong stores the remaining lifetime,
   * and a declarative file has no creation time, so a key lives `ttl` seconds from the load of
   * the snapshot that carries it. `ttl: 0` is already expired, as in Kong.
   */
  constructor(snapshot: Snapshot, loadedAt: number) {
    for (const credential of snapshot.credentials.get('keyauth_credentials') ?? []) {
      const key = credential.key;
      const consumer = snapshot.consumers.get(credential.consumer);
      if (typeof key !== 'string' || key === '' || !consumer) continue;
      const ttl = typeof credential.ttl === 'number' ? credential.ttl : undefined;
      this.#byDigest.set(digest(key), { credential, consumer, expiresAt: ttl === undefined ? undefined : loadedAt + ttl * 1000 });
    }
  }

  /** The live credential for `key` and its consumer; undefined for unknown or expired keys. */
  find(key: string): KeyMatch | undefined {
    const entry = this.#byDigest.get(digest(key));
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && keyAuthClock.now() >= entry.expiresAt) return undefined;
    return entry;
  }
}

/** The snapshot's key index, built once and shared by every key-auth instance. */
export function keyIndexFor(env: { snapshot: Snapshot; memo<T>(key: string, build: () => T): T }): KeyIndex {
  return env.memo('key-auth:keys', () => new KeyIndex(env.snapshot, keyAuthClock.now()));
}
