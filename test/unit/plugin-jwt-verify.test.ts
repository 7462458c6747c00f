import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import * as jose from 'jose';
import {
  checkClaims,
  checkMaximumExpiration,
  importKey,
  JWT_ALGORITHMS,
  parseJwt,
  verifyJwt,
  type JwtAlgorithm,
  type VerificationKey,
} from '../../src/plugins/bundled/jwt/verify.ts';

/**
 * The verifier against jose: tokens jose signs verify; tampered, unsigned, confused or
 * mis-pinned ones do not; and on random mutations both agree on validity.
 */

const NOW = 1_800_000_000;
const ASYMMETRIC = JWT_ALGORITHMS.filter((a) => !a.startsWith('HS'));

/** What jose signs and verifies with (a CryptoKey or an HMAC secret's bytes). */
type JoseKey = Parameters<jose.SignJWT['sign']>[0];

interface KeySet {
  readonly alg: JwtAlgorithm;
  /** What jose signs with. */
  readonly signKey: JoseKey;
  /** What jose verifies with. */
  readonly joseKey: JoseKey;
  /** What a `jwt_secrets` row stores: the secret, or the public key PEM. */
  readonly stored: string;
  readonly key: VerificationKey;
}

const keys = new Map<JwtAlgorithm, KeySet>();

function keySet(alg: JwtAlgorithm): KeySet {
  const set = keys.get(alg);
  assert.ok(set, `no key for ${alg}`);
  return set;
}

async function generate(alg: JwtAlgorithm): Promise<KeySet> {
  let signKey: JoseKey;
  let joseKey: JoseKey;
  let stored: string;
  if (alg.startsWith('HS')) {
    stored = Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString('base64url');
    signKey = joseKey = new TextEncoder().encode(stored);
  } else {
    const pair = await jose.generateKeyPair(alg, { extractable: true });
    signKey = pair.privateKey;
    joseKey = pair.publicKey;
    stored = await jose.exportSPKI(pair.publicKey);
  }
  const imported = importKey(alg, stored);
  assert.ok(imported.ok, `import ${alg}`);
  return { alg, signKey, joseKey, stored, key: imported.key };
}

const claimValue = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.nat(), { maxLength: 3 }));
/** Private claims only: jose type-checks registered ones (`iat`...) that Kong ignores. */
const privateClaims = fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,7}$/).filter((k) => !['iat', 'exp', 'nbf'].includes(k)), claimValue, { maxKeys: 5 });
const validClaims = fc.record({
  extra: privateClaims,
  sub: fc.string({ maxLength: 20 }),
  exp: fc.integer({ min: NOW + 1, max: NOW + 86_400 }),
  nbf: fc.integer({ min: NOW - 86_400, max: NOW }),
}).map(({ extra, ...registered }) => ({ ...extra, ...registered }));
/** exp and nbf around NOW, either side, so claim checks fail sometimes. */
const anyTimedClaims = fc.record({
  extra: privateClaims,
  exp: fc.integer({ min: NOW - 5, max: NOW + 5 }),
  nbf: fc.integer({ min: NOW - 5, max: NOW + 5 }),
}).map(({ extra, ...registered }) => ({ ...extra, ...registered }));
const algorithm = fc.constantFrom(...JWT_ALGORITHMS);

async function sign(alg: JwtAlgorithm, claims: jose.JWTPayload, header: Partial<jose.JWTHeaderParameters> = {}): Promise<string> {
  return new jose.SignJWT(claims).setProtectedHeader({ ...header, alg }).sign(keySet(alg).signKey);
}

function verifyNow(token: string, key: VerificationKey) {
  return verifyJwt(token, key, { now: NOW, claimsToVerify: ['exp', 'nbf'] });
}

async function joseAccepts(token: string, set: KeySet): Promise<boolean> {
  try {
    await jose.jwtVerify(token, set.joseKey, { algorithms: [set.alg], currentDate: new Date(NOW * 1000), requiredClaims: ['exp', 'nbf'] });
    return true;
  } catch {
    return false;
  }
}

function segments(token: string): [string, string, string] {
  const [h = '', p = '', s = ''] = token.split('.');
  return [h, p, s];
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

before(async () => {
  for (const alg of JWT_ALGORITHMS) keys.set(alg, await generate(alg));
});

describe('jwt verifier: tokens jose signs', () => {
  it('verify, for every algorithm and random claims, and yield the claims', async () => {
    await fc.assert(
      fc.asyncProperty(algorithm, validClaims, async (alg, claims) => {
        const result = verifyNow(await sign(alg, claims), keySet(alg).key);
        assert.ok(result.ok, `${alg}: ${JSON.stringify(result)}`);
        assert.deepEqual(result.jwt.claims, claims);
        assert.equal(result.jwt.alg, alg);
      }),
      { numRuns: 150 },
    );
  });

  it('verify with an Ed448 key too (jose 6 has no Ed448), and with a key given as a private PEM', () => {
    const { privateKey } = generateKeyPairSync('ed448');
    const input = `${b64({ alg: 'EdDSA' })}.${b64({ a: 1 })}`;
    const token = `${input}.${cryptoSign(null, Buffer.from(input), privateKey).toString('base64url')}`;
    const imported = importKey('EdDSA', privateKey.export({ format: 'pem', type: 'pkcs8' }));
    assert.ok(imported.ok);
    assert.ok(verifyJwt(token, imported.key, { now: NOW }).ok);
  });
});

describe('jwt verifier: refusals', () => {
  it('a flipped signature bit', async () => {
    await fc.assert(
      fc.asyncProperty(algorithm, validClaims, fc.nat(), async (alg, claims, bit) => {
        const [h, p, s] = segments(await sign(alg, claims));
        const sig = Buffer.from(s, 'base64url');
        const at = bit % (sig.length * 8);
        sig[at >> 3] = (sig[at >> 3] ?? 0) ^ (1 << (at & 7));
        const result = verifyNow(`${h}.${p}.${sig.toString('base64url')}`, keySet(alg).key);
        assert.deepEqual(result, { ok: false, stage: 'signature' });
      }),
      { numRuns: 150 },
    );
  });

  it('a changed payload', async () => {
    await fc.assert(
      fc.asyncProperty(algorithm, validClaims, validClaims, async (alg, claims, other) => {
        fc.pre(JSON.stringify(claims) !== JSON.stringify(other));
        const [h, , s] = segments(await sign(alg, claims));
        assert.deepEqual(verifyNow(`${h}.${b64(other)}.${s}`, keySet(alg).key), { ok: false, stage: 'signature' });
      }),
      { numRuns: 100 },
    );
  });

  it("alg 'none' (any spelling), with or without a signature, is not an algorithm", async () => {
    await fc.assert(
      fc.asyncProperty(algorithm, validClaims, fc.constantFrom('none', 'None', 'NONE', 'nOnE', ''), async (alg, claims, none) => {
        const [, p, s] = segments(await sign(alg, claims));
        const header = b64({ alg: none, typ: 'JWT' });
        for (const token of [`${header}.${p}.`, `${header}.${p}.${s}`]) {
          assert.deepEqual(parseJwt(token), { ok: false, error: 'invalid alg' });
          assert.equal(verifyNow(token, keySet(alg).key).ok, false);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('an HMAC token keyed with an asymmetric credential’s public key PEM (HS/RS confusion)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ASYMMETRIC), fc.constantFrom('HS256', 'HS384', 'HS512'), validClaims, async (alg, hs, claims) => {
        const set = keySet(alg);
        const secret = new TextEncoder().encode(set.stored);
        // As the attacker sends it (alg HS*), and relabelled with the credential's alg.
        const honest = await new jose.SignJWT(claims).setProtectedHeader({ alg: hs }).sign(secret);
        assert.deepEqual(verifyNow(honest, set.key), { ok: false, stage: 'algorithm' });
        const [, p] = segments(honest);
        const relabelledInput = `${b64({ alg })}.${p}`;
        const mac = createHmac(`sha${hs.slice(2)}`, set.stored).update(relabelledInput).digest('base64url');
        assert.deepEqual(verifyNow(`${relabelledInput}.${mac}`, set.key), { ok: false, stage: 'signature' });
      }),
      { numRuns: 60 },
    );
  });

  it('a token whose alg is not the one the credential pins', async () => {
    await fc.assert(
      fc.asyncProperty(algorithm, algorithm, validClaims, async (signedWith, pinned, claims) => {
        fc.pre(signedWith !== pinned);
        const result = verifyNow(await sign(signedWith, claims), keySet(pinned).key);
        assert.deepEqual(result, { ok: false, stage: 'algorithm' });
      }),
      { numRuns: 100 },
    );
  });

  it('key material of the wrong type for the pinned algorithm', () => {
    const pem = (alg: JwtAlgorithm) => keySet(alg).stored;
    assert.match(rejected('ES256', pem('ES384')), /ES256 needs an EC prime256v1 public key, got ec secp384r1/);
    assert.match(rejected('ES512', pem('RS256')), /needs an EC secp521r1 public key, got rsa/);
    assert.match(rejected('RS256', pem('ES256')), /RS256 needs an RSA public key, got ec/);
    assert.match(rejected('EdDSA', pem('PS256')), /EdDSA needs an Ed25519 or Ed448 public key/);
    assert.match(rejected('PS384', pem('EdDSA')), /PS384 needs an RSA public key, got ed25519/);
    assert.match(rejected('RS256', 'not a key'), /invalid public key/);
  });

  it('malformed tokens with Kong’s reasons', async () => {
    const token = await sign('HS256', { exp: NOW + 10, nbf: NOW });
    const [h, p, s] = segments(token);
    assert.deepEqual(parseJwt('abc'), { ok: false, error: 'invalid JSON' });
    assert.deepEqual(parseJwt(`${h}.${p}`), { ok: false, error: 'invalid JSON' });
    assert.deepEqual(parseJwt(`${h}!.${p}.${s}`), { ok: false, error: 'invalid JSON' });
    assert.deepEqual(parseJwt(`${b64([1])}.${p}.${s}`), { ok: false, error: 'invalid JSON' });
    assert.deepEqual(parseJwt(`${h}.${Buffer.from('{"a":').toString('base64url')}.${s}`), { ok: false, error: 'invalid JSON' });
    assert.deepEqual(parseJwt(`${h}.${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}.${s}`), { ok: false, error: 'invalid JSON' });
    assert.deepEqual(parseJwt(`${b64({ alg: 'HS1' })}.${p}.${s}`), { ok: false, error: 'invalid alg' });
    assert.deepEqual(parseJwt(`${b64({ alg: ['HS256'] })}.${p}.${s}`), { ok: false, error: 'invalid alg' });
    assert.deepEqual(parseJwt(`${token}.extra`), { ok: false, error: 'invalid signature' });
    // Standard-alphabet base64 and padding are not base64url.
    assert.deepEqual(parseJwt(`${h}.${p}.${s.slice(0, -1)}+`), { ok: false, error: 'invalid signature' });
    assert.deepEqual(parseJwt(`${h}.${p}.${s}=`), { ok: false, error: 'invalid signature' });
    assert.deepEqual(verifyNow(`${h}.${p}.`, keySet('HS256').key), { ok: false, stage: 'signature' });
  });
});

describe('jwt verifier agrees with jose.jwtVerify', () => {
  const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  type Mutation = (token: string, r: number, c: number) => string;
  const mutations: Mutation[] = [
    // Replace one character with a base64url character or a dot.
    (t, r, c) => {
      const at = r % t.length;
      return t.slice(0, at) + `${BASE64URL}.`[c % 65] + t.slice(at + 1);
    },
    // Delete one character.
    (t, r) => {
      const at = r % t.length;
      return t.slice(0, at) + t.slice(at + 1);
    },
    // Insert one character.
    (t, r, c) => {
      const at = r % (t.length + 1);
      return t.slice(0, at) + BASE64URL[c % 64] + t.slice(at);
    },
    // Truncate.
    (t, r) => t.slice(0, r % t.length),
    // Flip a bit inside one decoded segment and re-encode it.
    (t, r, c) => {
      const parts = segments(t);
      const which = c % 3;
      const bytes = Buffer.from(parts[which] ?? '', 'base64url');
      if (bytes.length === 0) return t;
      const at = r % (bytes.length * 8);
      bytes[at >> 3] = (bytes[at >> 3] ?? 0) ^ (1 << (at & 7));
      parts[which] = bytes.toString('base64url');
      return parts.join('.');
    },
    // Swap two segments.
    (t, r) => {
      const [h, p, s] = segments(t);
      return [[p, h, s], [h, s, p], [s, p, h]][r % 3]?.join('.') ?? t;
    },
    // Leave the token alone (claims alone decide).
    (t) => t,
  ];

  it('on validity, for random claims and random mutations', async () => {
    await fc.assert(
      fc.asyncProperty(
        algorithm,
        anyTimedClaims,
        fc.array(fc.tuple(fc.nat(mutations.length - 1), fc.nat(), fc.nat()), { minLength: 1, maxLength: 3 }),
        async (alg, claims, steps) => {
          let token = await sign(alg, claims);
          for (const [m, r, c] of steps) token = mutations[m]?.(token, r, c) ?? token;
          const set = keySet(alg);
          assert.equal(verifyNow(token, set.key).ok, await joseAccepts(token, set), `${alg} ${token}`);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('jwt claims (Kong’s verify_registered_claims)', () => {
  it('exp is expired at now, nbf is valid at now', () => {
    assert.deepEqual(checkClaims({ exp: NOW }, ['exp'], { now: NOW }), { exp: 'token expired' });
    assert.equal(checkClaims({ exp: NOW + 1 }, ['exp'], { now: NOW }), undefined);
    assert.equal(checkClaims({ nbf: NOW }, ['nbf'], { now: NOW }), undefined);
    assert.deepEqual(checkClaims({ nbf: NOW + 1 }, ['nbf'], { now: NOW }), { nbf: 'token not valid yet' });
  });

  it('lists every failing claim in the configured order; missing or non-numbers are refused', () => {
    assert.deepEqual(checkClaims({}, ['nbf', 'exp'], { now: NOW }), { nbf: 'must be a number', exp: 'must be a number' });
    assert.deepEqual(JSON.stringify(checkClaims({ exp: '1' }, ['nbf', 'exp'], { now: NOW })), '{"nbf":"must be a number","exp":"must be a number"}');
    assert.equal(checkClaims({ exp: NOW - 100 }, [], { now: NOW }), undefined);
  });

  it('leeway widens both windows', () => {
    assert.equal(checkClaims({ exp: NOW - 5, nbf: NOW + 5 }, ['exp', 'nbf'], { now: NOW, leeway: 5 })?.exp, 'token expired');
    assert.equal(checkClaims({ exp: NOW - 4, nbf: NOW + 5 }, ['exp', 'nbf'], { now: NOW, leeway: 5 }), undefined);
  });

  it('maximum_expiration bounds exp - now; a missing exp exceeds it', () => {
    const exceeds = { exp: 'exceeds maximum allowed expiration' };
    assert.equal(checkMaximumExpiration({ exp: NOW + 300 }, 300, NOW), undefined);
    assert.deepEqual(checkMaximumExpiration({ exp: NOW + 301 }, 300, NOW), exceeds);
    assert.deepEqual(checkMaximumExpiration({}, 300, NOW), exceeds);
    assert.equal(checkMaximumExpiration({}, 0, NOW), undefined);
  });
});

function rejected(alg: JwtAlgorithm, material: string): string {
  const result = importKey(alg, material);
  assert.equal(result.ok, false);
  return result.ok ? '' : result.error;
}
