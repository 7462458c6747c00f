import { Type } from '@sinclair/typebox';
import { Comment, entity, ListOf } from './common.ts';
import { CaCertificateEntity } from './ca-certificate.ts';
import { CertificateEntity, SniEntity } from './certificate.ts';
import { ChannelEntity } from './channel.ts';
import { ConsumerEntity } from './consumer.ts';
import { CredentialEntities } from './credentials.ts';
import { PluginEntity } from './plugin.ts';
import { RouteEntity } from './route.ts';
import { ServiceEntity } from './service.ts';
import { TargetEntity, UpstreamEntity } from './upstream.ts';

/** The whole declarative file: metadata keys plus one top-level array per entity type. */

export const SUPPORTED_FORMAT_VERSIONS = ['3.0', '2.1', '1.1'] as const;

export const DeclarativeConfigEntity = entity(
  'declarative config',
  {
    _format_version: Type.String({ description: `one of ${SUPPORTED_FORMAT_VERSIONS.join(', ')}` }),
    _transform: Type.Optional(Type.Boolean({ default: true, description: 'hash basic-auth passwords on load' })),
    _comment: Type.Optional(Comment),
    _ignore: Type.Optional(Type.Array(Type.Unknown())),
  },
  {
    services: ListOf(ServiceEntity.schema),
    routes: ListOf(RouteEntity.schema),
    consumers: ListOf(ConsumerEntity.schema),
    plugins: ListOf(PluginEntity.schema),
    upstreams: ListOf(UpstreamEntity.schema),
    targets: ListOf(TargetEntity.schema),
    certificates: ListOf(CertificateEntity.schema),
    snis: ListOf(SniEntity.schema),
    ca_certificates: ListOf(CaCertificateEntity.schema),
    keyauth_credentials: ListOf(CredentialEntities.keyauth_credentials.schema),
    jwt_secrets: ListOf(CredentialEntities.jwt_secrets.schema),
    basicauth_credentials: ListOf(CredentialEntities.basicauth_credentials.schema),
    hmacauth_credentials: ListOf(CredentialEntities.hmacauth_credentials.schema),
    acls: ListOf(CredentialEntities.acls.schema),
    channels: ListOf(ChannelEntity.schema),
  },
);

export const DeclarativeConfigSchema = DeclarativeConfigEntity.schema;
