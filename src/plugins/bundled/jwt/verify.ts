import {
  constants,
  createHmac,
  createPublicKey,
  timingSafeEqual,
  verify as verifySignatureWithKey,
  type KeyObject,
} from 'node:crypto';
import { JWT_ALGORITHMS } from '../../../config/schema/credentials.ts';

/**
 * JWS compact-token verification over node:crypto, as pure functions so the jwt plugin, its
 * tests and the pub/sub side (which re-checks `exp` on open streams) share one implementation.
 *
 * The algorithm is always **pinned by the credential**: a key is imported for exactly one
 * algorithm and `verifySignature` refuses a token whose header names another one. That makes
 * `alg: none` and HS/RS confusion (an RSA public key PEM used as an HMAC secret) impossible by
 * construction: an RS key never reaches HMAC code, and `none` is not an algorithm at all.
 */

export { JWT_ALGORITHMS };
/** The algorithms a `jwt_secrets` credential may pin. */
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

const ALGORITHMS: ReadonlySet<string> = new Set(JWT_ALGORITHMS);

export function isJwtAlgorithm(value: unknown): value is JwtAlgorithm {
  return typeof value === 'string' && ALGORITHMS.has(value);
}

export type JsonObject = Record<string, unknown>;

/** A token split and decoded, not yet trusted. */
export interface DecodedJwt {
  readonly header: JsonObject;
  readonly claims: JsonObject;
  readonly alg: JwtAlgorithm;
  /** `base64url(header) + "." + base64url(claims)`, what the signature covers. */
  readonly signingInput: string;
  readonly signature: Buffer;
}

/** Kong's parser reasons, shown to the client as `Bad token; <reason>`. */
export type ParseError = 'invalid JSON' | 'invalid alg' | 'invalid signature';

export type ParseResult = { readonly ok: true; readonly jwt: DecodedJwt } | { readonly ok: false; readonly error: ParseError };

/**
 * RFC 7515 base64url without padding. Stricter than Kong (whose decoder also takes `+`, `/`
 * and `=`): no JOSE library emits those, and accepting them lets one signature have several
 * spellings.
 */
const BASE64URL = /^[A-Za-z0-9_-]*$/;

function decodeSegment(segment: string): Buffer | undefined {
  if (!BASE64URL.test(segment) || segment.length % 4 === 1) return undefined;
  return Buffer.from(segment, 'base64url');
}

/** Invalid UTF-8 is refused rather than patched with U+FFFD. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function decodeJsonObject(segment: string): JsonObject | undefined {
  const bytes = decodeSegment(segment);
  if (!bytes) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(UTF8.decode(bytes));
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

/**
 * Splits and decodes a compact JWS. Kong's order of checks, so clients get Kong's reasons:
 * header and claims must be base64url JSON objects ("invalid JSON"; fewer than three parts
 * lands here too), the header's `alg` must be a supported algorithm ("invalid alg"; `none`
 * included), and the signature must be base64url ("invalid signature"; a fourth part lands
 * here since its `.` is not base64url).
 */
export function parseJwt(token: string): ParseResult {
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (second < 0) return { ok: false, error: 'invalid JSON' };
  const header = decodeJsonObject(token.slice(0, first));
  const claims = header && decodeJsonObject(token.slice(first + 1, second));
  if (!header || !claims) return { ok: false, error: 'invalid JSON' };
  const alg = header.alg;
  if (!isJwtAlgorithm(alg)) return { ok: false, error: 'invalid alg' };
  const signature = decodeSegment(token.slice(second + 1));
  if (!signature) return { ok: false, error: 'invalid signature' };
  return { ok: true, jwt: { header, claims, alg, signingInput: token.slice(0, second), signature } };
}

/** A key bound to one algorithm: a secret for HS*, a parsed public key for the rest. */
export type VerificationKey =
  | { readonly alg: 'HS256' | 'HS384' | 'HS512'; readonly secret: Buffer }
  | { readonly alg: Exclude<JwtAlgorithm, 'HS256' | 'HS384' | 'HS512'>; readonly key: KeyObject };

export type ImportResult = { readonly ok: true; readonly key: VerificationKey } | { readonly ok: false; readonly error: string };

const HASH: Record<JwtAlgorithm, string | null> = {
  // EdDSA hashes internally: node:crypto wants `null` as the digest.
  HS256: 'sha256', HS384: 'sha384', HS512: 'sha512',
  RS256: 'sha256', RS384: 'sha384', RS512: 'sha512',
  PS256: 'sha256', PS384: 'sha384', PS512: 'sha512',
  ES256: 'sha256', ES384: 'sha384', ES512: 'sha512',
  EdDSA: null,
};

/** Curve and JOSE (r‖s) signature length of each ECDSA algorithm (RFC 7518 §3.4). */
const EC: Partial<Record<JwtAlgorithm, { curve: string; signatureLength: number }>> = {
  ES256: { curve: 'prime256v1', signatureLength: 64 },
  ES384: { curve: 'secp384r1', signatureLength: 96 },
  ES512: { curve: 'secp521r1', signatureLength: 132 },
};

function isHmac(alg: JwtAlgorithm): alg is 'HS256' | 'HS384' | 'HS512' {
  return alg.startsWith('HS');
}

/**
 * Imports key material for one algorithm, once (per snapshot): the HMAC secret's bytes, or a
 * PEM public key (a private key or certificate PEM yields its public half) whose type fits
 * the algorithm: RSA for RS*, RSA or RSA-PSS for PS*, the right curve for ES*, Ed25519/Ed448
 * for EdDSA. A string secret is taken as UTF-8 bytes, as Kong does.
 */
export function importKey(alg: JwtAlgorithm, material: string | Buffer): ImportResult {
  if (isHmac(alg)) return { ok: true, key: { alg, secret: Buffer.from(material) } };
  let key: KeyObject;
  try {
    key = createPublicKey(material);
  } catch (err) {
    return { ok: false, error: `invalid public key: ${err instanceof Error ? err.message : String(err)}` };
  }
  const type = key.asymmetricKeyType;
  const ec = EC[alg];
  if (ec) {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (type !== 'ec' || curve !== ec.curve) return { ok: false, error: `${alg} needs an EC ${ec.curve} public key, got ${describeKey(key)}` };
  } else if (alg === 'EdDSA') {
    if (type !== 'ed25519' && type !== 'ed448') return { ok: false, error: `EdDSA needs an Ed25519 or Ed448 public key, got ${describeKey(key)}` };
  } else if (alg.startsWith('PS')) {
    if (type !== 'rsa' && type !== 'rsa-pss') return { ok: false, error: `${alg} needs an RSA public key, got ${describeKey(key)}` };
  } else if (type !== 'rsa') {
    return { ok: false, error: `${alg} needs an RSA public key, got ${describeKey(key)}` };
  }
  return { ok: true, key: { alg, key } };
}

function describeKey(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return `${key.asymmetricKeyType ?? 'unknown'}${curve ? ` ${curve}` : ''}`;
}

/**
 * Checks the signature with the credential's key. A token whose `alg` is not the key's
 * algorithm never verifies, whatever its signature. HMAC tags are compared in constant time.
 */
export function verifySignature(jwt: DecodedJwt, key: VerificationKey): boolean {
  if (jwt.alg !== key.alg) return false;
  const data = Buffer.from(jwt.signingInput, 'latin1');
  const hash = HASH[key.alg];
  if ('secret' in key) {
    const expected = createHmac(hash as string, key.secret).update(data).digest();
    return expected.length === jwt.signature.length && timingSafeEqual(expected, jwt.signature);
  }
  const ec = EC[key.alg];
  if (ec && jwt.signature.length !== ec.signatureLength) return false;
  try {
    if (ec) return verifySignatureWithKey(hash, data, { key: key.key, dsaEncoding: 'ieee-p1363' }, jwt.signature);
    if (key.alg.startsWith('PS')) {
      return verifySignatureWithKey(
        hash,
        data,
        { key: key.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
        jwt.signature,
      );
    }
    if (key.alg === 'EdDSA') return verifySignatureWithKey(null, data, key.key, jwt.signature);
    return verifySignatureWithKey(hash, data, { key: key.key, padding: constants.RSA_PKCS1_PADDING }, jwt.signature);
  } catch {
    // OpenSSL rejects some malformed signatures by throwing rather than returning false.
    return false;
  }
}

export type RegisteredClaim = 'exp' | 'nbf';

/** Claim name → Kong's complaint, e.g. `{exp: 'token expired'}`; in the order checked. */
export type ClaimErrors = Record<string, string>;

export interface ClaimCheckOptions {
  /** Seconds since the epoch. */
  readonly now: number;
  /**
   * Clock skew tolerated, in seconds. The jwt plugin uses 0, as Kong OSS (which has no
   * setting for it); long-lived checks (streams re-checking `exp`) may allow a little.
   */
  readonly leeway?: number;
}

/**
 * Kong's `verify_registered_claims`: each listed claim must be a number, `exp` must be in
 * the future (`exp <= now` is expired) and `nbf` not (`nbf > now` is not valid yet).
 * Returns undefined when every listed claim passes.
 */
export function checkClaims(claims: JsonObject, toVerify: readonly RegisteredClaim[], options: ClaimCheckOptions): ClaimErrors | undefined {
  const leeway = options.leeway ?? 0;
  let errors: ClaimErrors | undefined;
  for (const name of toVerify) {
    const value = claims[name];
    let problem: string | undefined;
    if (typeof value !== 'number') problem = 'must be a number';
    else if (name === 'exp' && value <= options.now - leeway) problem = 'token expired';
    else if (name === 'nbf' && value > options.now + leeway) problem = 'token not valid yet';
    if (problem) (errors ??= {})[name] = problem;
  }
  return errors;
}

/**
 * Kong's `check_maximum_expiration`: a token may not live longer than `maximum` seconds
 * from now (a missing `exp` counts as too long). 0 disables the check.
 */
export function checkMaximumExpiration(claims: JsonObject, maximum: number, now: number): ClaimErrors | undefined {
  if (maximum <= 0) return undefined;
  const exp = claims.exp;
  if (typeof exp !== 'number' || exp - now > maximum) return { exp: 'exceeds maximum allowed expiration' };
  return undefined;
}

export interface VerifyOptions extends ClaimCheckOptions {
  readonly claimsToVerify?: readonly RegisteredClaim[];
  readonly maximumExpiration?: number;
}

export type VerifyFailure =
  | { readonly ok: false; readonly stage: 'parse'; readonly error: ParseError }
  | { readonly ok: false; readonly stage: 'algorithm' }
  | { readonly ok: false; readonly stage: 'signature' }
  | { readonly ok: false; readonly stage: 'claims'; readonly errors: ClaimErrors };

export type VerifyResult = { readonly ok: true; readonly jwt: DecodedJwt } | VerifyFailure;

/**
 * Everything after key lookup in one call: parse, pinned algorithm, signature, claims, then
 * maximum lifetime — Kong's order. For callers that already know the key (tests, streams).
 */
export function verifyJwt(token: string, key: VerificationKey, options: VerifyOptions): VerifyResult {
  const parsed = parseJwt(token);
  if (!parsed.ok) return { ok: false, stage: 'parse', error: parsed.error };
  return verifyDecoded(parsed.jwt, key, options);
}

/** `verifyJwt` for a token already parsed (the plugin parses first to find the key). */
export function verifyDecoded(jwt: DecodedJwt, key: VerificationKey, options: VerifyOptions): VerifyResult {
  if (jwt.alg !== key.alg) return { ok: false, stage: 'algorithm' };
  if (!verifySignature(jwt, key)) return { ok: false, stage: 'signature' };
  const claimErrors = checkClaims(jwt.claims, options.claimsToVerify ?? [], options);
  if (claimErrors) return { ok: false, stage: 'claims', errors: claimErrors };
  const lifetimeErrors = checkMaximumExpiration(jwt.claims, options.maximumExpiration ?? 0, options.now);
  if (lifetimeErrors) return { ok: false, stage: 'claims', errors: lifetimeErrors };
  return { ok: true, jwt };
}
