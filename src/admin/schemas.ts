import { Type, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import * as S from '../config/schema.ts';
import { schemaIssues } from '../config/schema-errors.ts';
import type { PluginRegistry } from '../plugins/registry.ts';
import { AdminError } from './errors.ts';
import { schemaViolation } from './fields.ts';
import type { AdminRequest, AdminRoute } from './types.ts';

/**
 * Introspection, Kong's `/schemas` endpoints, serving the TypeBox schemas the declarative
 * loader validates with (`src/config/schema/*`, plugin schemas from the registry). TypeBox
 * schemas are JSON Schema, so the answer is the schema itself, e.g.
 * `GET /schemas/services` → `{"type":"object","title":"service","properties":{...}}`.
 *
 * - `GET /schemas/{entity}`: Kong's DAO names (`services`, `keyauth_credentials`, ...) plus `channels`;
 * - `GET /schemas/plugins/{name}`: a plugin entity whose `config` is that plugin's schema;
 * - `POST /schemas/{entity}/validate`, `POST /schemas/plugins/validate`: dry-run validation,
 *   200 `{"message":"schema validation successful"}` or 400 with Kong's schema-violation error.
 */

export const ENTITY_SCHEMAS: Readonly<Record<string, TSchema>> = {
  services: S.ServiceSchema,
  routes: S.RouteSchema,
  consumers: S.ConsumerSchema,
  plugins: S.PluginSchema,
  upstreams: S.UpstreamSchema,
  targets: S.TargetSchema,
  certificates: S.CertificateSchema,
  snis: S.SniSchema,
  ca_certificates: S.CaCertificateSchema,
  keyauth_credentials: S.KeyAuthCredentialSchema,
  jwt_secrets: S.JwtSecretSchema,
  basicauth_credentials: S.BasicAuthCredentialSchema,
  hmacauth_credentials: S.HmacAuthCredentialSchema,
  acls: S.AclSchema,
  channels: S.ChannelSchema,
};

/** The JSON Schema of a plugin instance of `name`: the plugin entity with `config` typed. */
export function pluginEntitySchema(registry: PluginRegistry, name: string): TSchema | undefined {
  const def = registry.get(name);
  if (!def) return undefined;
  return Type.Object(
    { ...S.PluginSchema.properties, name: Type.Literal(name), config: Type.Optional(def.schema) },
    { additionalProperties: false, title: `plugin ${name}`, description: `version ${def.VERSION}, priority ${def.PRIORITY}` },
  );
}

const compiled = new Map<string, TypeCheck<TSchema>>();
function checkerFor(entity: string): TypeCheck<TSchema> | undefined {
  const schema = ENTITY_SCHEMAS[entity];
  if (!schema) return undefined;
  let check = compiled.get(entity);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    compiled.set(entity, check);
  }
  return check;
}

const noEntity = (name: string) => new AdminError('NOT_FOUND', { message: `No entity named '${name}'` });
const noPlugin = (name: string) => new AdminError('NOT_FOUND', { message: `No plugin named '${name}'` });
const valid = { status: 200, body: { message: 'schema validation successful' } };

function jsonObject(req: AdminRequest): Record<string, unknown> {
  const value = req.body.kind === 'json' ? req.body.value : req.body.kind === 'form' ? Object.fromEntries(req.body.fields) : undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw schemaViolation([{ path: [], message: 'expected a JSON object as the request body' }]);
  }
  return value as Record<string, unknown>;
}

function validatePlugin(registry: PluginRegistry, input: Record<string, unknown>) {
  const name = input.name;
  if (typeof name !== 'string' || name === '') throw schemaViolation([{ path: ['name'], message: 'required field missing' }]);
  if (!registry.has(name)) {
    throw schemaViolation([{ path: ['name'], message: `plugin '${name}' not enabled; add it to the 'plugins' configuration property` }]);
  }
  const shape = schemaIssues(checkerFor('plugins')!, Value.Default(S.PluginSchema, Value.Clone(input)));
  const config = registry.validateConfig(name, input.config ?? {});
  const issues = [...shape, ...(config.ok ? [] : config.issues.map((i) => ({ path: ['config', ...i.path], message: i.message })))];
  if (issues.length > 0) throw schemaViolation(issues);
}

export const schemaRoutes: readonly AdminRoute[] = [
  {
    method: 'GET',
    pattern: '/schemas/:entity',
    handler: ({ params }) => {
      const schema = ENTITY_SCHEMAS[params.entity ?? ''];
      if (!schema) throw noEntity(params.entity ?? '');
      return { status: 200, body: schema };
    },
  },
  {
    method: 'GET',
    pattern: '/schemas/plugins/:name',
    handler: ({ params, deps }) => {
      const schema = pluginEntitySchema(deps.registry, params.name ?? '');
      if (!schema) throw noPlugin(params.name ?? '');
      return { status: 200, body: schema };
    },
  },
  {
    method: 'POST',
    pattern: '/schemas/plugins/validate',
    handler: (req) => {
      validatePlugin(req.deps.registry, jsonObject(req));
      return valid;
    },
  },
  {
    method: 'POST',
    pattern: '/schemas/:entity/validate',
    handler: (req) => {
      const entity = req.params.entity ?? '';
      const check = checkerFor(entity);
      if (!check) throw noEntity(entity);
      const input = jsonObject(req);
      if (entity === 'plugins') validatePlugin(req.deps.registry, input);
      const issues = schemaIssues(check, Value.Default(ENTITY_SCHEMAS[entity]!, Value.Clone(input)));
      if (issues.length > 0) throw schemaViolation(issues);
      return valid;
    },
  },
];
