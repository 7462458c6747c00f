/**
 * TypeBox schemas of the declarative (kong.yml) entities as written in the file. Exported by
 * name so the Admin API can serve them as JSON Schema (`GET /schemas/{entity}`); the loader
 * (`load.ts`) validates with their compiled forms.
 */
export { ForeignRef, PROTOCOLS, UUID_PATTERN, type EntitySchemas } from './schema/common.ts';
export { PluginSchema, PluginOrderingSchema, PLUGIN_DEFAULT_PROTOCOLS } from './schema/plugin.ts';
export { RouteSchema, HTTPS_REDIRECT_CODES } from './schema/route.ts';
export { ServiceSchema } from './schema/service.ts';
export { ConsumerSchema } from './schema/consumer.ts';
export {
  AclSchema,
  BasicAuthCredentialSchema,
  CREDENTIAL_KINDS,
  HmacAuthCredentialSchema,
  JWT_ALGORITHMS,
  JwtSecretSchema,
  KeyAuthCredentialSchema,
  type CredentialKind,
} from './schema/credentials.ts';
export {
  ActiveHealthcheckSchema,
  HealthchecksSchema,
  PassiveHealthcheckSchema,
  TargetSchema,
  UpstreamSchema,
} from './schema/upstream.ts';
export { CertificateSchema, SniSchema } from './schema/certificate.ts';
export { CaCertificateSchema } from './schema/ca-certificate.ts';
export { ChannelSchema } from './schema/channel.ts';
export { DeclarativeConfigSchema, SUPPORTED_FORMAT_VERSIONS } from './schema/root.ts';
