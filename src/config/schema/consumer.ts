import { Type } from '@sinclair/typebox';
import { BaseFields, entity, ListOf } from './common.ts';
import { NestedCredentialEntities } from './credentials.ts';
import { ConsumerPluginEntity } from './plugin.ts';

/** Consumers: `username` and/or `custom_id` (at least one), with nested credentials and plugins. */
export const ConsumerEntity = entity(
  'consumer',
  {
    ...BaseFields,
    username: Type.Optional(Type.String({ minLength: 1 })),
    custom_id: Type.Optional(Type.String({ minLength: 1 })),
  },
  {
    plugins: ListOf(ConsumerPluginEntity.schema),
    keyauth_credentials: ListOf(NestedCredentialEntities.keyauth_credentials.schema),
    jwt_secrets: ListOf(NestedCredentialEntities.jwt_secrets.schema),
    basicauth_credentials: ListOf(NestedCredentialEntities.basicauth_credentials.schema),
    hmacauth_credentials: ListOf(NestedCredentialEntities.hmacauth_credentials.schema),
    acls: ListOf(NestedCredentialEntities.acls.schema),
  },
);

export const ConsumerSchema = ConsumerEntity.schema;
