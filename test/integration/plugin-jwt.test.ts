import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as jose from 'jose';
import { request } from 'undici';
import { useEchoGateway } from '../helpers/gateway.ts';
import type { EchoedRequest } from '../helpers/servers.ts';

/** The jwt plugin through real sockets: what a client and the upstream see. */

type SignKey = Parameters<jose.SignJWT['sign']>[0];

const now = () => Math.floor(Date.now() / 1000);
const enc = (s: string | Buffer) => new Uint8Array(Buffer.from(s));
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const B64_SECRET = Buffer.from('dave\x00binary\xffsecret', 'latin1');

describe('jwt plugin', () => {
  /** Private keys by algorithm, and the public PEMs the credentials store. */
  const priv = new Map<string, SignKey>();
  const pems = new Map<string, string>();

  async function sign(claims: jose.JWTPayload, alg: string, key: SignKey, header: Record<string, unknown> = {}): Promise<string> {
    return new jose.SignJWT(claims).setProtectedHeader({ ...header, alg }).sign(key);
  }
  const alice = (claims: jose.JWTPayload = {}) => sign({ iss: 'alice-iss', sub: 'alice-sub', ...claims }, 'HS256', enc('alice-secret'));

  async function get(path: string, headers: Record<string, string> = {}, method: 'GET' | 'OPTIONS' = 'GET') {
    const res = await request(`${ctx.gw.proxyUrl}${path}`, { method, headers });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
  }
  const upstream = (r: { json: () => Record<string, unknown> }) => r.json() as unknown as EchoedRequest;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  before(async () => {
    for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
      const pair = await jose.generateKeyPair(alg, { extractable: true });
      priv.set(alg, pair.privateKey);
      pems.set(alg, await jose.exportSPKI(pair.publicKey));
    }
  });
  // Registered after the key generation above, so the config can read the public PEMs.
  const ctx = useEchoGateway((upstream) => `
_format_version: "3.0"
services:
  - name: echo
    url: ${upstream}
    routes:
      - name: default
        paths: [/default]
        plugins: [{ name: jwt }]
      - name: claims
        paths: [/claims]
        plugins: [{ name: jwt, config: { claims_to_verify: [exp, nbf] } }]
      - name: max
        paths: [/max]
        plugins: [{ name: jwt, config: { claims_to_verify: [exp], maximum_expiration: 300 } }]
      - name: cookie
        paths: [/cookie]
        plugins: [{ name: jwt, config: { cookie_names: [crumble], uri_param_names: [token, jwt] } }]
      - name: b64
        paths: [/b64]
        plugins: [{ name: jwt, config: { secret_is_base64: true } }]
      - name: anon
        paths: [/anon]
        plugins: [{ name: jwt, config: { anonymous: guest } }]
      - name: preflight
        paths: [/preflight]
        plugins: [{ name: jwt, config: { run_on_preflight: false } }]
      - name: ghost
        paths: [/ghost]
        plugins: [{ name: jwt, config: { anonymous: ghost } }]
      - name: templated
        paths: [/templated]
        plugins:
          - name: jwt
          - name: request-transformer
            config: { add: { headers: ["x-sub:$(jwt.claims.sub)", "x-tenant:$(jwt.claims.org.tenant)"] } }
      - name: custom-header
        paths: [/custom]
        plugins: [{ name: jwt, config: { header_names: [x-token], realm: api } }]
consumers:
  - username: alice
    custom_id: alice-custom
    jwt_secrets:
      - { key: alice-iss, secret: alice-secret }
  - username: bob
    jwt_secrets:
      - { key: bob-iss, algorithm: RS256, rsa_public_key: ${JSON.stringify(pems.get('RS256'))} }
  - username: carol
    jwt_secrets:
      - { key: carol-iss, algorithm: ES256, rsa_public_key: ${JSON.stringify(pems.get('ES256'))} }
      - { key: carol-ed, algorithm: EdDSA, rsa_public_key: ${JSON.stringify(pems.get('EdDSA'))} }
  - username: dave
    jwt_secrets:
      - { key: dave-iss, secret: "${B64_SECRET.toString('base64')}" }
  - username: guest
`);

  describe('refusals', () => {
    test('no token: 401 Unauthorized with a bare Bearer challenge', async () => {
      const r = await get('/default');
      assert.equal(r.status, 401);
      assert.equal(r.json().message, 'Unauthorized');
      assert.equal(r.headers['www-authenticate'], 'Bearer');
      const preflight = await get('/default', {}, 'OPTIONS');
      assert.equal(preflight.status, 401, 'run_on_preflight defaults to true');
    });

    test('malformed tokens: Kong’s "Bad token; ..." reasons', async () => {
      const good = await alice();
      const [h, p, s] = good.split('.');
      const cases: [string, string][] = [
        ['abc', 'Bad token; invalid JSON'],
        [`${h}.${p}`, 'Bad token; invalid JSON'],
        [`!!!.${p}.${s}`, 'Bad token; invalid JSON'],
        [`${Buffer.from('{"alg":').toString('base64url')}.${p}.${s}`, 'Bad token; invalid JSON'],
        [`${h}.${Buffer.from('not json').toString('base64url')}.${s}`, 'Bad token; invalid JSON'],
        [`${b64({ alg: 'none', typ: 'JWT' })}.${p}.`, 'Bad token; invalid alg'],
        [`${good}.more`, 'Bad token; invalid signature'],
      ];
      for (const [token, message] of cases) {
        const r = await get('/default', bearer(token));
        assert.equal(r.status, 401, token);
        assert.equal(r.json().message, message, token);
        assert.equal(r.headers['www-authenticate'], 'Bearer error="invalid_token"');
      }
    });

    test('expired and not-yet-valid tokens: Kong’s per-claim body', async () => {
      const expired = await get('/claims', bearer(await alice({ exp: now() - 10, nbf: now() - 20 })));
      assert.equal(expired.status, 401);
      assert.equal(expired.text, '{"exp":"token expired"}');
      const early = await get('/claims', bearer(await alice({ exp: now() + 60, nbf: now() + 30 })));
      assert.equal(early.status, 401);
      assert.equal(early.text, '{"nbf":"token not valid yet"}');
      const missing = await get('/claims', bearer(await alice()));
      assert.equal(missing.text, '{"exp":"must be a number","nbf":"must be a number"}');
      // Without claims_to_verify, exp is not looked at (as Kong).
      assert.equal((await get('/default', bearer(await alice({ exp: now() - 10 })))).status, 200);
    });

    test('wrong algorithm: the credential pins it (HS256 signed with the RS256 public key is refused)', async () => {
      const confused = await sign({ iss: 'bob-iss' }, 'HS256', enc(pems.get('RS256') ?? ''));
      const r = await get('/default', bearer(confused));
      assert.equal(r.status, 401);
      assert.equal(r.json().message, 'Invalid algorithm');
      const relabelled = await sign({ iss: 'alice-iss' }, 'HS384', enc('alice-secret'));
      assert.equal((await get('/default', bearer(relabelled))).json().message, 'Invalid algorithm');
    });

    test('wrong signature and unknown iss', async () => {
      const forged = await sign({ iss: 'alice-iss' }, 'HS256', enc('not-the-secret'));
      const bad = await get('/default', bearer(forged));
      assert.equal(bad.status, 401);
      assert.equal(bad.json().message, 'Invalid signature');
      const unknown = await get('/default', bearer(await sign({ iss: 'mallory' }, 'HS256', enc('x'))));
      assert.equal(unknown.status, 401);
      assert.equal(unknown.json().message, "No credentials found for given 'iss'");
      const noIss = await get('/default', bearer(await sign({ sub: 'x' }, 'HS256', enc('x'))));
      assert.equal(noIss.json().message, "No mandatory 'iss' in claims");
    });

    test('two different tokens: 401 Multiple tokens provided; the same one twice is fine', async () => {
      const a = await alice();
      const b = await alice({ n: 2 });
      const r = await get(`/default?jwt=${a}`, bearer(b));
      assert.equal(r.status, 401);
      assert.equal(r.json().message, 'Multiple tokens provided');
      assert.equal((await get(`/default?jwt=${a}&jwt=${b}`)).json().message, 'Multiple tokens provided');
      assert.equal((await get(`/default?jwt=${a}`, bearer(a))).status, 200);
    });

    test('maximum_expiration: a token living longer is refused', async () => {
      const long = await get('/max', bearer(await alice({ exp: now() + 3600 })));
      assert.equal(long.status, 401);
      assert.equal(long.text, '{"exp":"exceeds maximum allowed expiration"}');
      assert.equal((await get('/max', bearer(await alice({ exp: now() + 200 })))).status, 200);
    });
  });

  describe('accepted tokens', () => {
    test('in the Authorization header: the upstream sees the consumer and the credential key', async () => {
      const token = await alice();
      const r = await get('/default', bearer(token));
      assert.equal(r.status, 200);
      const seen = upstream(r);
      assert.equal(seen.headers['x-consumer-username'], 'alice');
      assert.equal(seen.headers['x-consumer-custom-id'], 'alice-custom');
      assert.equal(typeof seen.headers['x-credential-identifier'], 'string');
      assert.equal(seen.headers['x-anonymous-consumer'], undefined);
      assert.equal(seen.headers.authorization, `Bearer ${token}`, 'Kong forwards the token');
    });

    test(
      'X-Credential-Identifier is the jwt_secrets key, as Kong sets it',
      async () => {
        for (const [iss, token] of [['alice-iss', await alice()], ['bob-iss', await sign({ iss: 'bob-iss' }, 'RS256', priv.get('RS256') ?? enc(''))]]) {
          const r = await get('/default', bearer(token ?? ''));
          assert.equal(upstream(r).headers['x-credential-identifier'], iss);
        }
      },
    );

    test('in the query (default `jwt` and a configured name) and in a cookie', async () => {
      const token = await alice();
      const query = await get(`/default?jwt=${token}`);
      assert.equal(query.status, 200);
      assert.equal(upstream(query).url, `/?jwt=${token}`, 'Kong leaves the token in the query');
      assert.equal((await get(`/cookie?token=${token}`)).status, 200);
      const cookie = await get('/cookie', { cookie: `other=1; crumble=${token}; path=/` });
      assert.equal(cookie.status, 200);
      assert.equal(upstream(cookie).headers['x-consumer-username'], 'alice');
      const badCookie = await get('/cookie', { cookie: `crumble=no-way${token}` });
      assert.equal(badCookie.json().message, 'Bad token; invalid JSON');
      // A cookie name not configured is not looked at.
      assert.equal((await get('/default', { cookie: `crumble=${token}` })).json().message, 'Unauthorized');
    });

    test('a later plugin reads the verified claims: request-transformer templates $(jwt.claims...)', async () => {
      const r = await get('/templated', bearer(await alice({ org: { tenant: 't-7' } })));
      assert.equal(r.status, 200);
      assert.equal(upstream(r).headers['x-sub'], 'alice-sub');
      assert.equal(upstream(r).headers['x-tenant'], 't-7');
    });

    test('in a configured header, with the realm in the challenge', async () => {
      assert.equal((await get('/custom', { 'x-token': `Bearer ${await alice()}` })).status, 200);
      const none = await get('/custom', bearer(await alice()));
      assert.equal(none.status, 401);
      assert.equal(none.headers['www-authenticate'], 'Bearer realm="api"');
    });

    test('RS256, ES256 and EdDSA credentials', async () => {
      const cases: [string, string, string][] = [
        ['bob-iss', 'RS256', 'bob'],
        ['carol-iss', 'ES256', 'carol'],
        ['carol-ed', 'EdDSA', 'carol'],
      ];
      for (const [iss, alg, username] of cases) {
        const key = priv.get(alg);
        assert.ok(key);
        const r = await get('/default', bearer(await sign({ iss }, alg, key)));
        assert.equal(r.status, 200, alg);
        assert.equal(upstream(r).headers['x-consumer-username'], username);
      }
    });

    test('secret_is_base64: the stored secret is decoded before use', async () => {
      const token = await sign({ iss: 'dave-iss' }, 'HS256', new Uint8Array(B64_SECRET));
      const r = await get('/b64', bearer(token));
      assert.equal(r.status, 200);
      assert.equal(upstream(r).headers['x-consumer-username'], 'dave');
      // The same credential on a route without the flag uses the base64 text itself.
      assert.equal((await get('/default', bearer(token))).json().message, 'Invalid signature');
    });

    test('run_on_preflight false lets OPTIONS through; an anonymous consumer that does not exist is a 500', async () => {
      assert.equal((await get('/preflight', {}, 'OPTIONS')).status, 200);
      assert.equal((await get('/preflight')).status, 401);
      const ghost = await get('/ghost');
      assert.equal(ghost.status, 500);
      assert.equal(ghost.json().message, 'An unexpected error occurred');
    });

    test('anonymous: a failed or missing token falls back to the anonymous consumer', async () => {
      const none = await get('/anon');
      assert.equal(none.status, 200);
      assert.equal(upstream(none).headers['x-consumer-username'], 'guest');
      assert.equal(upstream(none).headers['x-anonymous-consumer'], 'true');
      assert.equal(upstream(none).headers['x-credential-identifier'], undefined);
      const forged = await get('/anon', bearer(await sign({ iss: 'alice-iss' }, 'HS256', enc('nope'))));
      assert.equal(upstream(forged).headers['x-consumer-username'], 'guest');
      const good = await get('/anon', bearer(await alice()));
      assert.equal(upstream(good).headers['x-consumer-username'], 'alice');
      assert.equal(upstream(good).headers['x-anonymous-consumer'], undefined);
    });
  });
});
