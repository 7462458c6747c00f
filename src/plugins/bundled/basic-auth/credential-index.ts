import { createHash, timingSafeEqual } from 'node:crypto';
import type { Consumer, Credential, Snapshot } from '../../../config/types.ts';

/**
 * basic-auth credentials of one snapshot by username. The loader stores each password as Kong
 * does, SHA-1 hex of password ‖ consumer id (`src/config/resolve/credentials.ts`); checking a
 * password hashes the attempt the same way and compares the digests in constant time.
 */

export interface BasicMatch {
  readonly credential: Credential;
  readonly consumer: Consumer;
}

interface Entry extends BasicMatch {
  /** The stored SHA-1 digest, decoded from hex once. */
  readonly digest: Buffer;
}

/** Hashed when the username is unknown, so that answer takes as long as a wrong password. */
const DUMMY = { consumerId: '00000000-0000-0000-0000-000000000000', digest: Buffer.alloc(20) };

function kongDigest(password: string, consumerId: string): Buffer {
  return createHash('sha1').update(`${password}${consumerId}`).digest();
}

export class BasicCredentialIndex {
  readonly #byUsername = new Map<string, Entry>();

  constructor(snapshot: Snapshot) {
    for (const credential of snapshot.credentials.get('basicauth_credentials') ?? []) {
      const consumer = snapshot.consumers.get(credential.consumer);
      if (typeof credential.username !== 'string' || typeof credential.password !== 'string' || !consumer) continue;
      this.#byUsername.set(credential.username, { credential, consumer, digest: Buffer.from(credential.password, 'hex') });
    }
  }

  /** The credential and consumer when `username` exists and `password` is its password. */
  verify(username: string, password: string): BasicMatch | undefined {
    const entry = this.#byUsername.get(username);
    const expected = entry?.digest ?? DUMMY.digest;
    const actual = kongDigest(password, entry?.consumer.id ?? DUMMY.consumerId);
    const same = expected.length === actual.length && timingSafeEqual(expected, actual);
    return entry && same ? entry : undefined;
  }

  /** Whether a credential has this username (Kong tries `Authorization` when `Proxy-Authorization` names nobody). */
  has(username: string): boolean {
    return this.#byUsername.has(username);
  }
}

/** The snapshot's index, built once and shared by every basic-auth instance. */
export function basicCredentialsFor(env: { snapshot: Snapshot; memo<T>(key: string, build: () => T): T }): BasicCredentialIndex {
  return env.memo('basic-auth:credentials', () => new BasicCredentialIndex(env.snapshot));
}
