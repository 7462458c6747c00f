import { parse } from 'yaml';
import { formatConfigError, type ConfigError } from '../config/errors.ts';
import { AdminError } from './errors.ts';
import { setField, type FieldPath } from './fields.ts';

/**
 * A rejected declarative config in Kong's envelope (code 14): `fields` mirrors the file,
 * `{"services":[{"host":"..."}]}`; with `flatten_errors` the errors are also listed per entity
 * as Kong's `flattened_errors` (`entity_type`, `entity_name`, `entity_id`, `entity_tags`,
 * `entity`, `errors: [{type: "field"|"entity", field?, message}]`), which is what tools such as
 * the Kong Ingress Controller read. The message keeps Sluice's `file:line:column` positions.
 *
 * ```ts
 * throw declarativeError(result.errors, text, { flatten: true });
 * ```
 */

/** Entity collections, as they appear as keys of the file, → Kong's entity_type. */
const ENTITY_TYPES: Readonly<Record<string, string>> = {
  services: 'service',
  routes: 'route',
  consumers: 'consumer',
  plugins: 'plugin',
  upstreams: 'upstream',
  targets: 'target',
  certificates: 'certificate',
  snis: 'sni',
  ca_certificates: 'ca_certificate',
  keyauth_credentials: 'keyauth_credential',
  jwt_secrets: 'jwt_secret',
  basicauth_credentials: 'basicauth_credential',
  hmacauth_credentials: 'hmacauth_credential',
  acls: 'acl',
  channels: 'channel',
};

const NAME_FIELDS = ['name', 'username', 'instance_name', 'target', 'group', 'custom_id'] as const;

interface FlatEntity {
  entity_type: string;
  entity_name: string | null;
  entity_id: string | null;
  entity_tags: unknown;
  entity: unknown;
  errors: { type: 'field' | 'entity'; field?: string; message: string }[];
}

export function declarativeError(errors: readonly ConfigError[], text: string, options: { flatten: boolean }): AdminError {
  const lines = errors.map(formatConfigError);
  if (errors.length > 0 && errors.every((e) => e.message.startsWith('invalid YAML'))) {
    return new AdminError('INVALID_DECLARATIVE_CONFIG', {
      message: `failed parsing declarative configuration: ${lines.join('; ')}`,
      fields: {},
      ...(options.flatten ? { extra: { flattened_errors: [] } } : {}),
    });
  }
  const input = parseQuietly(text);
  const fields: Record<string, unknown> = {};
  const flat = new Map<string, FlatEntity>();
  for (const error of errors) {
    const path = parseEntityPath(error.entityPath);
    const at = innermostEntity(path, input);
    setField(fields, path, error.message, { entity: at !== undefined && at === path.length });
    if (at === undefined) continue;
    const entityPath = path.slice(0, at);
    const key = JSON.stringify(entityPath);
    let entry = flat.get(key);
    if (!entry) {
      entry = flatEntity(entityPath, valueAt(input, entityPath));
      flat.set(key, entry);
    }
    const field = path.slice(at);
    entry.errors.push(field.length === 0 ? { type: 'entity', message: error.message } : { type: 'field', field: field.join('.'), message: error.message });
  }
  return new AdminError('INVALID_DECLARATIVE_CONFIG', {
    message: `declarative config is invalid: ${lines.join('; ')}`,
    fields: options.flatten ? {} : fields,
    ...(options.flatten ? { extra: { flattened_errors: [...flat.values()] } } : {}),
  });
}

function flatEntity(path: FieldPath, value: unknown): FlatEntity {
  const collection = String(path[path.length - 2]);
  const record = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  const name = NAME_FIELDS.map((f) => record[f]).find((v) => typeof v === 'string');
  // The entity as written, without its nested children (they are entities of their own).
  const own = Object.fromEntries(Object.entries(record).filter(([k, v]) => !(k in ENTITY_TYPES && Array.isArray(v))));
  return {
    entity_type: ENTITY_TYPES[collection] ?? collection,
    entity_name: typeof name === 'string' ? name : null,
    entity_id: typeof record.id === 'string' ? record.id : null,
    entity_tags: Array.isArray(record.tags) ? record.tags : null,
    entity: own,
    errors: [],
  };
}

/**
 * Where the innermost entity a path runs through ends (`services[0].routes[1].paths[0]` → 4),
 * or undefined when the path is about the file itself. An entity is a collection key at the top
 * level or right under another entity, followed by an index holding a mapping; this keeps
 * `routes[0].snis[0]` (a string list) and `plugins[0].exclude.routes[0]` (references) out.
 */
function innermostEntity(path: FieldPath, input: unknown): number | undefined {
  let found: number | undefined;
  for (let i = 0; i + 1 < path.length; i++) {
    const key = path[i];
    if (typeof key !== 'string' || !(key in ENTITY_TYPES) || typeof path[i + 1] !== 'number') continue;
    if (i !== 0 && i !== found) continue;
    const value = valueAt(input, path.slice(0, i + 2));
    if (input !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) continue;
    found = i + 2;
  }
  return found;
}

function valueAt(input: unknown, path: FieldPath): unknown {
  let node = input;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[String(key)];
  }
  return node;
}

function parseQuietly(text: string): unknown {
  try {
    return parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** `services[0].routes[1]["a b"]` → `['services', 0, 'routes', 1, 'a b']` (the inverse of formatPath). */
export function parseEntityPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  const token = /(?:^|\.)([A-Za-z_][\w-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/gy;
  let match: RegExpExecArray | null;
  while ((match = token.exec(path)) !== null) {
    if (match[1] !== undefined) out.push(match[1]);
    else if (match[2] !== undefined) out.push(Number(match[2]));
    else out.push(JSON.parse(match[3]!) as string);
    if (token.lastIndex >= path.length) break;
  }
  return out;
}
