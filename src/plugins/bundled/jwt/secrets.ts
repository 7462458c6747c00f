import type { Consumer, Credential, Snapshot } from '../../../config/types.ts';
import { importKey, isJwtAlgorithm, type JwtAlgorithm, type VerificationKey } from './verify.ts';

/** A `jwt_secrets` row ready to verify with: its key material imported once per snapshot. */
export interface JwtSecret {
  readonly credential: Credential;
  readonly consumer: Consumer | undefined;
  readonly algorithm: JwtAlgorithm;
  /** Undefined when the secret or public key cannot be used (answered "Invalid key/secret"). */
  readonly key: VerificationKey | undefined;
}

export interface SecretIndex {
  readonly byKey: ReadonlyMap<string, JwtSecret>;
  /** Credentials whose key material did not import, with why; logged once per snapshot. */
  readonly unusable: readonly { readonly key: string; readonly reason: string }[];
}

/**
 * Indexes the snapshot's `jwt_secrets` by `key` (what the `iss` claim names). With
 * `secretIsBase64` the stored value (the HMAC secret, or the PEM for asymmetric algorithms,
 * as Kong decodes either) is base64-decoded first.
 */
export function indexSecrets(snapshot: Snapshot, secretIsBase64: boolean): SecretIndex {
  const byKey = new Map<string, JwtSecret>();
  const unusable: { key: string; reason: string }[] = [];
  for (const credential of snapshot.credentials.get('jwt_secrets') ?? []) {
    if (typeof credential.key !== 'string') continue;
    const algorithm = isJwtAlgorithm(credential.algorithm) ? credential.algorithm : 'HS256';
    const stored = algorithm.startsWith('HS') ? credential.secret : credential.rsa_public_key;
    let key: VerificationKey | undefined;
    let reason: string | undefined;
    const material = typeof stored !== 'string' ? undefined : secretIsBase64 ? decodeBase64(stored) : stored;
    if (material === undefined) reason = secretIsBase64 ? 'secret is not valid base64' : 'no secret or public key';
    else {
      const imported = importKey(algorithm, material);
      if (imported.ok) key = imported.key;
      else reason = imported.error;
    }
    if (reason) unusable.push({ key: credential.key, reason });
    byKey.set(credential.key, { credential, consumer: snapshot.consumers.get(credential.consumer), algorithm, key });
  }
  return { byKey, unusable };
}

/** Kong's tolerant base64: either alphabet, padding optional; anything else is refused. */
export function decodeBase64(value: string): Buffer | undefined {
  const standard = value.replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(standard)) return undefined;
  const bare = standard.replace(/=+$/, '');
  if (bare.length % 4 === 1) return undefined;
  if (bare.length !== standard.length && standard.length % 4 !== 0) return undefined;
  return Buffer.from(bare, 'base64');
}
