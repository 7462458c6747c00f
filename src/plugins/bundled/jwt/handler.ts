import type { CompileEnv } from '../../contract.ts';
import type { Pdk } from '../../pdk/types.ts';
import type { Config } from './schema.ts';
import { indexSecrets, type SecretIndex } from './secrets.ts';
import { retrieveTokens, type TokenSources } from './tokens.ts';
import { parseJwt, verifyDecoded, type ClaimErrors, type RegisteredClaim } from './verify.ts';

/**
 * Kong's jwt plugin (`kong/plugins/jwt/handler.lua`, 3.x): finds one token in the query,
 * cookies or `Bearer` headers, picks the `jwt_secrets` credential its `iss` claim (or
 * `key_claim_name`) names, verifies it with the algorithm **the credential pins**, checks the
 * configured registered claims, and authenticates the credential's consumer. Failures answer
 * 401 with Kong's messages (claim failures with Kong's `{"exp": "token expired"}` body), or
 * fall back to the `anonymous` consumer.
 *
 * Later plugins read the verified token and claims from `kong.ctx.shared`:
 * `authenticated_jwt_token` (Kong's name) and `jwt_claims` (Sluice's; templates use
 * `$(jwt.claims.sub)`).
 *
 * Where Sluice differs from Kong, on purpose:
 * - no clock leeway for `exp`/`nbf`, as Kong OSS (no setting); `verify.ts` takes one for
 *   callers that need it;
 * - segments must be RFC 7515 base64url (Kong's decoder also takes `+`, `/`, `=`);
 * - a header or claims segment that is JSON but not an object is "Bad token; invalid JSON",
 *   a non-string key claim is "Invalid 'iss' in claims" (Kong errors or 500s on those);
 * - a credential whose key cannot be used for its algorithm (wrong key type or curve, bad
 *   base64 with `secret_is_base64`) answers "Invalid key/secret" and is logged once per
 *   snapshot, where Kong would fail with a 500 per request.
 */

export const PRIORITY = 1450;
export const VERSION = '1.0.0';
/** Re-run on open streams after a reload: a pure decision on the request (see PluginHandler.recheck). */
export const recheck = true;

export interface Compiled extends TokenSources {
  readonly secrets: SecretIndex;
  readonly claimsToVerify: readonly RegisteredClaim[];
  readonly maximumExpiration: number;
  readonly keyClaimName: string;
  readonly anonymous: string | undefined;
  readonly runOnPreflight: boolean;
  readonly challenge: string;
  readonly challengeWithError: string;
  readonly messages: { readonly noKey: string; readonly invalidKey: string; readonly noCredential: string };
}

/** Kong's entity check: a lifetime limit is meaningless unless `exp` is required. */
export function validate(config: Config): string[] {
  if ((config.maximum_expiration ?? 0) > 0 && !(config.claims_to_verify ?? []).includes('exp')) {
    return ["'claims_to_verify' must contain 'exp' when 'maximum_expiration' is set"];
  }
  return [];
}

export function compile(config: Config, env: CompileEnv): Compiled {
  const secretIsBase64 = config.secret_is_base64 ?? false;
  // One index per snapshot (and per encoding of the stored secrets), shared by every instance.
  const secrets = env.memo(`jwt:secrets:${secretIsBase64 ? 'base64' : 'raw'}`, () => {
    const index = indexSecrets(env.snapshot, secretIsBase64);
    for (const { key, reason } of index.unusable) env.logger.warn({ plugin: 'jwt', key }, `jwt_secrets '${key}' cannot verify tokens: ${reason}`);
    return index;
  });
  const keyClaimName = config.key_claim_name ?? 'iss';
  const challenge = config.realm === undefined ? 'Bearer' : `Bearer realm="${config.realm}"`;
  return {
    uriParamNames: config.uri_param_names ?? ['jwt'],
    cookieNames: config.cookie_names ?? [],
    headerNames: config.header_names ?? ['authorization'],
    secrets,
    claimsToVerify: config.claims_to_verify ?? [],
    maximumExpiration: config.maximum_expiration ?? 0,
    keyClaimName,
    anonymous: config.anonymous,
    runOnPreflight: config.run_on_preflight ?? true,
    challenge,
    challengeWithError: `${challenge} error="invalid_token"`,
    messages: {
      noKey: `No mandatory '${keyClaimName}' in claims`,
      invalidKey: `Invalid '${keyClaimName}' in claims`,
      noCredential: `No credentials found for given '${keyClaimName}'`,
    },
  };
}

export function access(kong: Pdk, conf: Compiled): void {
  if (!conf.runOnPreflight && kong.request.getMethod() === 'OPTIONS') return;
  if (conf.anonymous !== undefined) {
    // Logical OR with other auth plugins: an earlier one already identified the client.
    if (kong.client.getCredential()) return;
    if (authenticate(kong, conf) !== undefined) useAnonymous(kong, conf.anonymous);
    return;
  }
  const failure = authenticate(kong, conf);
  if (failure === undefined) return;
  const headers = { 'WWW-Authenticate': failure.challenge };
  if ('errors' in failure) kong.response.exit(401, failure.errors, headers);
  else kong.response.error(401, failure.message, headers);
}

/** Why authentication failed: Kong's message, or its per-claim errors body. */
type Failure = { readonly challenge: string } & ({ readonly message: string } | { readonly errors: ClaimErrors });

/** Authenticates the request's token; undefined on success, else what to answer. */
function authenticate(kong: Pdk, conf: Compiled): Failure | undefined {
  const tokens = retrieveTokens(kong, conf);
  const fail = (message: string): Failure => ({ challenge: conf.challengeWithError, message });
  const token = tokens[0];
  if (token === undefined) return { challenge: conf.challenge, message: 'Unauthorized' };
  if (tokens.length > 1) return fail('Multiple tokens provided');

  const parsed = parseJwt(token);
  if (!parsed.ok) return fail(`Bad token; ${parsed.error}`);
  const { claims, header } = parsed.jwt;

  // Lua's `claims[k] or header[k]`: the header (e.g. `kid`) only when the claim is absent.
  const claimed = present(claims[conf.keyClaimName]) ? claims[conf.keyClaimName] : header[conf.keyClaimName];
  if (!present(claimed)) return fail(conf.messages.noKey);
  if (typeof claimed !== 'string' || claimed === '') return fail(conf.messages.invalidKey);

  const secret = conf.secrets.byKey.get(claimed);
  if (!secret) return fail(conf.messages.noCredential);
  if (parsed.jwt.alg !== secret.algorithm) return fail('Invalid algorithm');
  if (!secret.key) return fail('Invalid key/secret');

  const now = Math.floor(kong.request.getStartTime() / 1000);
  const verified = verifyDecoded(parsed.jwt, secret.key, {
    now,
    claimsToVerify: conf.claimsToVerify,
    maximumExpiration: conf.maximumExpiration,
  });
  if (!verified.ok) {
    if (verified.stage === 'claims') return { challenge: conf.challengeWithError, errors: verified.errors };
    return fail(verified.stage === 'algorithm' ? 'Invalid algorithm' : 'Invalid signature');
  }
  if (!secret.consumer) return fail(`Could not find consumer for '${conf.keyClaimName}=${claimed}'`);

  kong.client.authenticate(secret.consumer, secret.credential, { identifier: String(secret.credential.key) });
  kong.ctx.shared.authenticated_jwt_token = token;
  kong.ctx.shared.jwt_claims = claims;
  return undefined;
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false;
}

/** Kong's anonymous fallback: a missing anonymous consumer is a configuration error (500). */
function useAnonymous(kong: Pdk, anonymous: string): void {
  const consumer = kong.client.loadConsumer(anonymous, true);
  if (!consumer) {
    kong.log.error(`anonymous consumer "${anonymous}" not found`);
    kong.response.error(500, 'An unexpected error occurred');
    return;
  }
  kong.client.authenticate(consumer, undefined, { anonymous: true });
}
