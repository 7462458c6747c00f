import { Type, type TProperties } from '@sinclair/typebox';
import { BaseFields, entity, ForeignRef, OneOf } from './common.ts';

/**
 * Credential rows of the auth plugins' DAOs. Each exists nested under a consumer (no
 * `consumer` field) and top-level (with a required `consumer` reference).
 */

export const JWT_ALGORITHMS = [
  'HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'EdDSA',
] as const;

const credentialFields = {
  keyauth_credentials: {
    ...BaseFields,
    key: Type.Optional(Type.String({ minLength: 1, description: 'random when omitted' })),
    ttl: Type.Optional(Type.Integer({ minimum: 0, description: 'seconds; informational in DB-less mode' })),
  },
  jwt_secrets: {
    ...BaseFields,
    key: Type.Optional(Type.String({ minLength: 1, description: 'matched against the iss claim; random when omitted' })),
    secret: Type.Optional(Type.String({ minLength: 1, description: 'random when omitted' })),
    rsa_public_key: Type.Optional(Type.String({ minLength: 1 })),
    algorithm: Type.Optional(OneOf(JWT_ALGORITHMS, { default: 'HS256' })),
  },
  basicauth_credentials: {
    ...BaseFields,
    username: Type.String({ minLength: 1 }),
    password: Type.String({ minLength: 1 }),
  },
  hmacauth_credentials: {
    ...BaseFields,
    username: Type.String({ minLength: 1 }),
    secret: Type.Optional(Type.String({ minLength: 1, description: 'random when omitted' })),
  },
  acls: {
    ...BaseFields,
    group: Type.String({ minLength: 1 }),
  },
} satisfies Record<string, TProperties>;

export type CredentialKind = keyof typeof credentialFields;
export const CREDENTIAL_KINDS = Object.keys(credentialFields) as CredentialKind[];

/** Credential kind → schema of the row nested under a consumer. */
export const NestedCredentialEntities = {
  keyauth_credentials: entity('keyauth_credential', credentialFields.keyauth_credentials, {}),
  jwt_secrets: entity('jwt_secret', credentialFields.jwt_secrets, {}),
  basicauth_credentials: entity('basicauth_credential', credentialFields.basicauth_credentials, {}),
  hmacauth_credentials: entity('hmacauth_credential', credentialFields.hmacauth_credentials, {}),
  acls: entity('acl', credentialFields.acls, {}),
};

const consumerRef = { consumer: ForeignRef };

/** Credential kind → schema of the top-level row (with `consumer`). */
export const CredentialEntities = {
  keyauth_credentials: entity('keyauth_credential', { ...credentialFields.keyauth_credentials, ...consumerRef }, {}),
  jwt_secrets: entity('jwt_secret', { ...credentialFields.jwt_secrets, ...consumerRef }, {}),
  basicauth_credentials: entity('basicauth_credential', { ...credentialFields.basicauth_credentials, ...consumerRef }, {}),
  hmacauth_credentials: entity('hmacauth_credential', { ...credentialFields.hmacauth_credentials, ...consumerRef }, {}),
  acls: entity('acl', { ...credentialFields.acls, ...consumerRef }, {}),
};

export const KeyAuthCredentialSchema = CredentialEntities.keyauth_credentials.schema;
export const JwtSecretSchema = CredentialEntities.jwt_secrets.schema;
export const BasicAuthCredentialSchema = CredentialEntities.basicauth_credentials.schema;
export const HmacAuthCredentialSchema = CredentialEntities.hmacauth_credentials.schema;
export const AclSchema = CredentialEntities.acls.schema;
