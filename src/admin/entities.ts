import type { Snapshot } from '../config/types.ts';
import { isUuid } from '../config/ids.ts';
import {
  renderCaCertificate,
  renderCertificate,
  renderConsumer,
  renderCredential,
  renderPlugin,
  renderRoute,
  renderService,
  renderSni,
  renderTarget,
  renderUpstream,
  type KongEntity,
  type LoadTime,
} from './render.ts';

/**
 * The entity types the Admin API serves, each with its Kong names, the fields a URL may name
 * it by besides its id (Kong's `endpoint_key`), its foreign keys, and how to list it from a
 * snapshot. Listing renders once per snapshot and kind (snapshots are immutable), so a page
 * of a 10,000-route config costs a slice, not a render of everything.
 *
 * ```ts
 * entitiesOf(snapshot, 'services');          // every service, Kong-shaped, in file order
 * findEntity(snapshot, 'routes', 'orders');  // by id or name
 * ```
 */

export interface EntityKind {
  /** Collection path segment: `services`, `key-auths`. */
  readonly path: string;
  /** Kong's DAO name, used in its messages and by `/schemas/{name}`: `keyauth_credentials`. */
  readonly dao: string;
  /** Kong's `entity_type` in flattened declarative errors. */
  readonly singular: string;
  /** Fields a path segment may name besides the id. */
  readonly keys: readonly string[];
  /** Foreign key field → path of the referenced kind. */
  readonly foreign: Readonly<Record<string, string>>;
  readonly list: (snapshot: Snapshot, at: LoadTime) => KongEntity[];
}

const credentials = (dao: 'keyauth_credentials' | 'jwt_secrets' | 'basicauth_credentials' | 'hmacauth_credentials' | 'acls') =>
  (s: Snapshot, at: LoadTime): KongEntity[] => (s.credentials.get(dao) ?? []).map((c) => renderCredential(dao, c, at));

const kind = (path: string, dao: string, singular: string, keys: string[], foreign: Record<string, string>, list: EntityKind['list']): EntityKind =>
  ({ path, dao, singular, keys, foreign, list });

const toConsumer = { consumer: 'consumers' };

export const ENTITY_KINDS: readonly EntityKind[] = [
  kind('services', 'services', 'service', ['name'], { client_certificate: 'certificates' }, (s, at) => [...s.services.values()].map((e) => renderService(e, at))),
  kind('routes', 'routes', 'route', ['name'], { service: 'services' }, (s, at) => s.routes.map((e) => renderRoute(e, at))),
  kind('consumers', 'consumers', 'consumer', ['username'], {}, (s, at) => [...s.consumers.values()].map((e) => renderConsumer(e, at))),
  kind('plugins', 'plugins', 'plugin', ['instance_name'], { route: 'routes', service: 'services', consumer: 'consumers' }, (s, at) =>
    s.plugins.map((e) => renderPlugin(e, at))),
  kind('upstreams', 'upstreams', 'upstream', ['name'], {}, (s, at) => [...s.upstreams.values()].map((e) => renderUpstream(e, at))),
  kind('targets', 'targets', 'target', ['target'], { upstream: 'upstreams' }, (s, at) =>
    [...s.upstreams.values()].flatMap((u) => u.targets.map((t) => renderTarget(t, at)))),
  kind('certificates', 'certificates', 'certificate', [], {}, (s, at) => [...s.certificates.values()].map((e) => renderCertificate(e, at))),
  kind('snis', 'snis', 'sni', ['name'], { certificate: 'certificates' }, (s, at) => s.snis.map((e) => renderSni(e, at))),
  kind('ca_certificates', 'ca_certificates', 'ca_certificate', [], {}, (s, at) => [...s.ca_certificates.values()].map((e) => renderCaCertificate(e, at))),
  kind('key-auths', 'keyauth_credentials', 'keyauth_credential', ['key'], toConsumer, credentials('keyauth_credentials')),
  kind('jwts', 'jwt_secrets', 'jwt_secret', ['key'], toConsumer, credentials('jwt_secrets')),
  kind('basic-auths', 'basicauth_credentials', 'basicauth_credential', ['username'], toConsumer, credentials('basicauth_credentials')),
  kind('hmac-auths', 'hmacauth_credentials', 'hmacauth_credential', ['username'], toConsumer, credentials('hmacauth_credentials')),
  kind('acls', 'acls', 'acl', ['group'], toConsumer, credentials('acls')),
];

export const KIND_BY_PATH: ReadonlyMap<string, EntityKind> = new Map(ENTITY_KINDS.map((k) => [k.path, k]));

/** Kinds listed under a parent: `/services/{s}/routes`, `/consumers/{c}/key-auth`, ... */
export interface Nesting {
  readonly parent: string;
  /** Path segment under the parent (Kong's `admin_api_nested_name` for credentials). */
  readonly segment: string;
  readonly child: string;
  /** The child's foreign key to the parent. */
  readonly field: string;
}

const nest = (parent: string, segment: string, child: string, field: string): Nesting => ({ parent, segment, child, field });

export const NESTINGS: readonly Nesting[] = [
  nest('services', 'routes', 'routes', 'service'),
  nest('services', 'plugins', 'plugins', 'service'),
  nest('routes', 'plugins', 'plugins', 'route'),
  nest('consumers', 'plugins', 'plugins', 'consumer'),
  nest('consumers', 'key-auth', 'key-auths', 'consumer'),
  nest('consumers', 'jwt', 'jwts', 'consumer'),
  nest('consumers', 'basic-auth', 'basic-auths', 'consumer'),
  nest('consumers', 'hmac-auth', 'hmac-auths', 'consumer'),
  nest('consumers', 'acls', 'acls', 'consumer'),
  nest('upstreams', 'targets', 'targets', 'upstream'),
  nest('certificates', 'snis', 'snis', 'certificate'),
];

/** Rendered lists per snapshot, and the snapshot's load time (first time the API saw it). */
const cache = new WeakMap<Snapshot, { at: LoadTime; lists: Map<string, KongEntity[]> }>();

function cached(snapshot: Snapshot) {
  let entry = cache.get(snapshot);
  if (!entry) {
    const now = Date.now();
    entry = { at: { seconds: Math.floor(now / 1000), millis: now }, lists: new Map() };
    cache.set(snapshot, entry);
  }
  return entry;
}

/** Every entity of a kind, Kong-shaped, in a stable order (the file's). */
export function entitiesOf(snapshot: Snapshot, path: string): readonly KongEntity[] {
  const entityKind = KIND_BY_PATH.get(path);
  if (!entityKind) throw new Error(`unknown entity kind '${path}'`);
  const entry = cached(snapshot);
  let list = entry.lists.get(path);
  if (!list) {
    list = entityKind.list(snapshot, entry.at);
    entry.lists.set(path, list);
  }
  return list;
}

/**
 * The entity a path segment names, among `candidates` (default: the whole kind): by id when
 * it is a UUID, else by one of the kind's endpoint keys, as Kong's `select_entity`.
 */
export function findEntity(snapshot: Snapshot, path: string, idOrKey: string, candidates?: readonly KongEntity[]): KongEntity | undefined {
  const list = candidates ?? entitiesOf(snapshot, path);
  if (isUuid(idOrKey)) {
    const id = idOrKey.toLowerCase();
    const byId = list.find((e) => e.id === id);
    if (byId) return byId;
  }
  const keys = KIND_BY_PATH.get(path)?.keys ?? [];
  return list.find((e) => keys.some((k) => e[k] === idOrKey));
}

/** The id a foreign key field holds (`{id}` or null). */
export function foreignId(entity: KongEntity, field: string): string | undefined {
  const value = entity[field];
  if (typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string') return (value as { id: string }).id;
  return undefined;
}
