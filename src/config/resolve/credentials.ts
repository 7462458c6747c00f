import { createHash, randomBytes } from 'node:crypto';
import { publicKeyProblem } from '../check-certificate.ts';
import type { Report } from '../check-route.ts';
import type { CredentialIn, EntityNode } from '../collect.ts';
import { entityId } from '../ids.ts';
import { EntityIndex } from '../index-by-key.ts';
import { CREDENTIAL_KINDS, type CredentialKind } from '../schema/credentials.ts';
import type { Credential } from '../types.ts';
import { invalidReference, type ResolveContext } from './context.ts';

/** Which field is a credential's unique key, and whether Kong generates it when omitted. */
const CREDENTIAL_KEYS: Record<CredentialKind, { field: string; generated: readonly string[]; perConsumer: boolean }> = {
  keyauth_credentials: { field: 'key', generated: ['key'], perConsumer: false },
  jwt_secrets: { field: 'key', generated: ['key', 'secret'], perConsumer: false },
  basicauth_credentials: { field: 'username', generated: [], perConsumer: false },
  hmacauth_credentials: { field: 'username', generated: ['secret'], perConsumer: false },
  acls: { field: 'group', generated: [], perConsumer: true },
};

/**
 * Every credential kind's rows, keyed by kind. `transform` (the file's `_transform`) hashes
 * basic-auth passwords as Kong does: SHA-1 of password ‖ consumer id.
 */
export function resolveCredentials(
  byKind: Readonly<Record<CredentialKind, readonly EntityNode<CredentialIn>[]>>,
  consumers: EntityIndex<unknown>,
  transform: boolean,
  ctx: ResolveContext,
): Map<string, Credential[]> {
  const credentials = new Map<string, Credential[]>();
  for (const kind of CREDENTIAL_KINDS) credentials.set(kind, resolveKind(kind, byKind[kind], consumers, transform, ctx));
  return credentials;
}

function resolveKind(
  kind: CredentialKind,
  nodes: readonly EntityNode<CredentialIn>[],
  consumers: EntityIndex<unknown>,
  transform: boolean,
  ctx: ResolveContext,
): Credential[] {
  const spec = CREDENTIAL_KEYS[kind];
  const index = new EntityIndex<unknown>(kind, ctx.sink);
  const built: Credential[] = [];
  for (const node of nodes) {
    const v = { ...node.value };
    const report = ctx.reportFor(node, undefined);
    let consumer = node.parent;
    if (!consumer && node.usable && v.consumer !== undefined) {
      consumer = consumers.resolve(v.consumer, ['username']);
      if (!consumer) report(['consumer'], invalidReference('consumer', v.consumer));
    }
    // Secrets Kong generates when omitted are random: deriving them would make them guessable.
    for (const field of spec.generated) if (v[field] === undefined) v[field] = randomBytes(16).toString('hex');
    const keyValue = typeof v[spec.field] === 'string' ? (v[spec.field] as string) : undefined;
    const key = keyValue === undefined ? undefined : spec.perConsumer ? `${consumer?.id ?? ''}:${keyValue}` : keyValue;
    const explicitKey = node.raw[spec.field] !== undefined;
    node.id = entityId(kind, v.id, explicitKey ? key : undefined);
    index.addId(node, undefined);
    if (key !== undefined && (consumer || !spec.perConsumer)) index.addKey(node, spec.field, key, undefined, [...node.path, spec.field]);
    if (!node.usable || !consumer) continue;
    if (kind === 'jwt_secrets') checkJwtKey(v, report);
    if (kind === 'basicauth_credentials' && transform && typeof v.password === 'string') {
      v.password = createHash('sha1').update(`${v.password}${consumer.id}`).digest('hex');
    }
    const { _comment: _c, consumer: _ref, ...fields } = v;
    built.push({ ...fields, tags: v.tags ?? [], id: node.id, consumer: consumer.id });
  }
  return built;
}

/** An asymmetric JWT algorithm needs a public key to verify with, and one that parses. */
function checkJwtKey(v: CredentialIn, report: Report): void {
  const algorithm = String(v.algorithm ?? 'HS256');
  if (algorithm.startsWith('HS')) return;
  if (typeof v.rsa_public_key !== 'string') report([], `'rsa_public_key' is required when 'algorithm' is '${algorithm}'`);
  else {
    const problem = publicKeyProblem(v.rsa_public_key);
    if (problem) report(['rsa_public_key'], problem);
  }
}
