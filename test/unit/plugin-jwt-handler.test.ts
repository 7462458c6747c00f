import assert from 'node:assert/strict';
import { createHub, createMemoryEngine } from '../../src/pubsub/index.ts';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Consumer, Credential, Snapshot } from '../../src/config/types.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import type { CompileEnv } from '../../src/plugins/contract.ts';
import { access, compile, validate, type Compiled } from '../../src/plugins/bundled/jwt/handler.ts';
import type { Config } from '../../src/plugins/bundled/jwt/schema.ts';
import type { Pdk } from '../../src/plugins/pdk/types.ts';
import { snapshotFrom } from '../helpers/gateway.ts';

/**
 * The jwt handler against a fake PDK: what it authenticates, what it publishes in
 * `kong.ctx.shared` for later plugins, and its answers. Through-the-socket behaviour is in
 * test/integration/plugin-jwt.test.ts.
 */

const NOW = 1_800_000_000;

const snapshot = snapshotFrom(`
_format_version: "3.0"
consumers:
  - username: alice
    jwt_secrets:
      - key: alice-iss
        secret: alice-secret
      - key: alice-b64
        secret: ${Buffer.from('raw bytes \x01\x02').toString('base64')}
  - username: guest
`);

function env(snap: Snapshot, memo = new Map<string, unknown>(), warnings: string[] = []): CompileEnv {
  const logger = silentLogger();
  logger.warn = ((_fields: unknown, message: string) => {
    warnings.push(message);
  }) as unknown as typeof logger.warn;
  return {
    snapshot: snap,
    instance: { id: 'jwt-1', name: 'jwt', config: {}, protocols: ['http'], enabled: true, tags: [] },
    logger,
    hub: createHub({ engine: createMemoryEngine() }),
    memo<T>(key: string, build: () => T): T {
      if (!memo.has(key)) memo.set(key, build());
      return memo.get(key) as T;
    },
  };
}

/** Config as the loader hands it over: Kong's defaults applied. */
function conf(config: Partial<Config> = {}, snap = snapshot, memo?: Map<string, unknown>): Compiled {
  const full: Config = {
    uri_param_names: ['jwt'],
    cookie_names: [],
    header_names: ['authorization'],
    key_claim_name: 'iss',
    secret_is_base64: false,
    run_on_preflight: true,
    maximum_expiration: 0,
    ...config,
  };
  return compile(full, env(snap, memo));
}

interface Request {
  method?: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  credential?: Credential;
}

interface Outcome {
  exit?: { status: number; body: unknown; headers?: Readonly<Record<string, unknown>> };
  authenticated?: { consumer?: Consumer; credential?: Credential; anonymous: boolean };
  shared: Record<string, unknown>;
  errors: string[];
}

function run(compiled: Compiled, req: Request = {}): Outcome {
  const out: Outcome = { shared: {}, errors: [] };
  const headers = Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const kong = {
    request: {
      getMethod: () => req.method ?? 'GET',
      getQuery: () => req.query ?? {},
      getHeader: (name: string) => headers[name.toLowerCase()],
      getStartTime: () => NOW * 1000 + 999,
    },
    response: {
      error: (status: number, message?: string, h?: Record<string, unknown>) => {
        out.exit = { status, body: { message }, headers: h };
      },
      exit: (status: number, body?: unknown, h?: Record<string, unknown>) => {
        out.exit = { status, body, headers: h };
      },
    },
    client: {
      getCredential: () => req.credential,
      authenticate: (consumer?: Consumer, credential?: Credential, options?: { anonymous?: boolean }) => {
        out.authenticated = { consumer, credential, anonymous: options?.anonymous ?? false };
      },
      loadConsumer: (idOrName: string) => [...snapshot.consumers.values()].find((c) => c.id === idOrName || c.username === idOrName),
    },
    ctx: { shared: out.shared, plugin: {} },
    log: { error: (m: string) => out.errors.push(m), warn() {}, info() {}, debug() {} },
  };
  access(kong as unknown as Pdk, compiled);
  return out;
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function hs256(claims: Record<string, unknown>, secret: string | Buffer = 'alice-secret', header: Record<string, unknown> = {}): string {
  const input = `${b64({ typ: 'JWT', alg: 'HS256', ...header })}.${b64(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });
const invalidToken = { 'WWW-Authenticate': 'Bearer error="invalid_token"' };

describe('jwt access (fake PDK)', () => {
  it('authenticates the consumer of the credential the iss names and publishes token and claims', () => {
    const claims = { iss: 'alice-iss', sub: 'user-42', scope: ['read'] };
    const token = hs256(claims);
    const out = run(conf(), bearer(token));
    assert.equal(out.exit, undefined);
    assert.equal(out.authenticated?.consumer?.username, 'alice');
    assert.equal(out.authenticated?.credential?.key, 'alice-iss');
    assert.equal(out.authenticated?.anonymous, false);
    assert.equal(out.shared.authenticated_jwt_token, token);
    assert.deepEqual(out.shared.jwt_claims, claims);
  });

  it('a later plugin reads the verified claims from kong.ctx.shared', () => {
    const out = run(conf(), bearer(hs256({ iss: 'alice-iss', sub: 'user-42' })));
    // What a later plugin (or a `$(jwt.claims.sub)` template) does with the shared table.
    const later = (shared: Record<string, unknown>) => (shared.jwt_claims as Record<string, unknown> | undefined)?.sub;
    assert.equal(later(out.shared), 'user-42');
    const refused = run(conf(), bearer(hs256({ iss: 'alice-iss' }, 'wrong')));
    assert.equal(later(refused.shared), undefined);
  });

  it('falls back to the token header for the key claim (kid), as Lua’s `claims[k] or header[k]`', () => {
    const token = hs256({ sub: 'x' }, 'alice-secret', { kid: 'alice-iss' });
    assert.equal(run(conf({ key_claim_name: 'kid' }), bearer(token)).authenticated?.consumer?.username, 'alice');
    const claimWins = hs256({ kid: 'nobody' }, 'alice-secret', { kid: 'alice-iss' });
    assert.deepEqual(run(conf({ key_claim_name: 'kid' }), bearer(claimWins)).exit?.body, { message: "No credentials found for given 'kid'" });
  });

  it('answers Kong’s messages for a missing, empty or non-string key claim', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ sub: 'x' }, "No mandatory 'iss' in claims"],
      [{ iss: null }, "No mandatory 'iss' in claims"],
      [{ iss: '' }, "Invalid 'iss' in claims"],
      [{ iss: 42 }, "Invalid 'iss' in claims"],
      [{ iss: 'nobody' }, "No credentials found for given 'iss'"],
    ];
    for (const [claims, message] of cases) {
      assert.deepEqual(run(conf(), bearer(hs256(claims))).exit, { status: 401, body: { message }, headers: invalidToken }, message);
    }
  });

  it('uses the clock of the request: exp equal to the request second is expired', () => {
    const compiled = conf({ claims_to_verify: ['exp', 'nbf'] });
    assert.deepEqual(run(compiled, bearer(hs256({ iss: 'alice-iss', exp: NOW, nbf: NOW }))).exit?.body, { exp: 'token expired' });
    assert.equal(run(compiled, bearer(hs256({ iss: 'alice-iss', exp: NOW + 1, nbf: NOW }))).exit, undefined);
  });

  it('secret_is_base64 decodes the stored secret; a secret that is not base64 is "Invalid key/secret"', () => {
    const good = hs256({ iss: 'alice-b64' }, Buffer.from('raw bytes \x01\x02'));
    assert.equal(run(conf({ secret_is_base64: true }), bearer(good)).authenticated?.consumer?.username, 'alice');
    assert.deepEqual(run(conf(), bearer(good)).exit?.body, { message: 'Invalid signature' });
    const bad = snapshotFrom(`
_format_version: "3.0"
consumers:
  - username: carol
    jwt_secrets:
      - key: carol-iss
        secret: "not base64!"
`);
    const warnings: string[] = [];
    const compiled = compile({ secret_is_base64: true } as Config, env(bad, new Map(), warnings));
    assert.deepEqual(run(compiled, bearer(hs256({ iss: 'carol-iss' }, 'not base64!'))).exit?.body, { message: 'Invalid key/secret' });
    assert.deepEqual(warnings, ["jwt_secrets 'carol-iss' cannot verify tokens: secret is not valid base64"]);
  });

  it('indexes the secrets once per snapshot, shared by every instance with the same encoding', () => {
    const memo = new Map<string, unknown>();
    const a = conf({}, snapshot, memo);
    const b = conf({ uri_param_names: ['token'] }, snapshot, memo);
    const c = conf({ secret_is_base64: true }, snapshot, memo);
    assert.equal(a.secrets, b.secrets);
    assert.notEqual(a.secrets, c.secrets);
    assert.deepEqual([...memo.keys()].sort(), ['jwt:secrets:base64', 'jwt:secrets:raw']);
  });

  it('the realm names the challenge', () => {
    const out = run(conf({ realm: 'api' }), {});
    assert.deepEqual(out.exit, { status: 401, body: { message: 'Unauthorized' }, headers: { 'WWW-Authenticate': 'Bearer realm="api"' } });
    const bad = run(conf({ realm: 'api' }), bearer('x.y.z'));
    assert.deepEqual(bad.exit?.headers, { 'WWW-Authenticate': 'Bearer realm="api" error="invalid_token"' });
  });

  it('run_on_preflight false lets OPTIONS through unauthenticated', () => {
    assert.equal(run(conf({ run_on_preflight: false }), { method: 'OPTIONS' }).exit, undefined);
    assert.equal(run(conf(), { method: 'OPTIONS' }).exit?.status, 401);
  });

  it('anonymous: skipped when another plugin authenticated; a missing anonymous consumer is a 500', () => {
    const already = { id: 'c', consumer: 'x' } as Credential;
    const skipped = run(conf({ anonymous: 'guest' }), { credential: already });
    assert.equal(skipped.authenticated, undefined);
    const fallback = run(conf({ anonymous: 'guest' }), bearer('garbage'));
    assert.equal(fallback.authenticated?.consumer?.username, 'guest');
    assert.equal(fallback.authenticated?.anonymous, true);
    assert.equal(fallback.shared.jwt_claims, undefined);
    const missing = run(conf({ anonymous: 'ghost' }), {});
    assert.deepEqual(missing.exit, { status: 500, body: { message: 'An unexpected error occurred' }, headers: undefined });
    assert.deepEqual(missing.errors, ['anonymous consumer "ghost" not found']);
  });

  it('validate: maximum_expiration needs exp in claims_to_verify (Kong’s entity check)', () => {
    assert.deepEqual(validate({ maximum_expiration: 300 }), ["'claims_to_verify' must contain 'exp' when 'maximum_expiration' is set"]);
    assert.deepEqual(validate({ maximum_expiration: 300, claims_to_verify: ['nbf'] }).length, 1);
    assert.deepEqual(validate({ maximum_expiration: 300, claims_to_verify: ['exp'] }), []);
    assert.deepEqual(validate({}), []);
    assert.throws(
      () => snapshotFrom('_format_version: "3.0"\nplugins:\n  - name: jwt\n    config: { maximum_expiration: 300 }\n'),
      /config \(plugin "jwt"\): 'claims_to_verify' must contain 'exp' when 'maximum_expiration' is set/,
    );
  });
});
