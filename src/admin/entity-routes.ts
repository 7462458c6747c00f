import { isUuid } from '../config/ids.ts';
import { ENTITY_KINDS, KIND_BY_PATH, NESTINGS, entitiesOf, findEntity, foreignId, type EntityKind, type Nesting } from './entities.ts';
import { AdminError } from './errors.ts';
import { paginate } from './pagination.ts';
import type { KongEntity } from './render.ts';
import type { AdminReply, AdminRequest, AdminRoute } from './types.ts';

/**
 * Kong's generated entity endpoints (`kong/api/endpoints.lua`), read-only as in DB-less mode:
 *
 * - `GET /{entities}` and `GET /{entities}/{id or key}`;
 * - `GET /{parents}/{p}/{children}` and `.../{children}/{c}` (`/services/s/routes`, `/consumers/c/key-auth`);
 * - `GET /{entities}/{id}/{foreign}` (`/routes/r/service`, `/plugins/p/consumer`);
 * - writes answer what Kong's `off` strategy answers: 405 `cannot create 'services' entities when
 *   not using a database` (update, create or update, remove; `by 'name'` when the URL names the
 *   entity by its key), 404 when the entity to change does not exist, and 204 for deleting
 *   something that is not there (Kong's DAO deletes nothing successfully).
 */

type Op = 'create' | 'update' | 'create or update' | 'remove';

function unsupported(op: Op, kind: EntityKind, segment?: string): AdminError {
  const by = segment !== undefined && !isUuid(segment) && kind.keys[0] !== undefined ? ` by '${kind.keys[0]}'` : '';
  return new AdminError('OPERATION_UNSUPPORTED', { message: `cannot ${op} '${kind.dao}' entities${by} when not using a database` });
}

const ok = (body: unknown): AdminReply => ({ status: 200, body });

function kindOf(path: string): EntityKind {
  const kind = KIND_BY_PATH.get(path);
  if (!kind) throw new Error(`unknown entity kind '${path}'`);
  return kind;
}

function mustFind(req: AdminRequest, path: string, idOrKey: string, candidates?: readonly KongEntity[]): KongEntity {
  const entity = findEntity(req.state.snapshot, path, idOrKey, candidates);
  if (!entity) throw new AdminError('NOT_FOUND');
  return entity;
}

function param(req: AdminRequest, name: string): string {
  return req.params[name] ?? '';
}

/** Endpoints of one kind: its collection, its entities, and their foreign keys. */
function kindRoutes(kind: EntityKind): AdminRoute[] {
  const base = `/${kind.path}`;
  const one = `${base}/:id`;
  const routes: AdminRoute[] = [
    { method: 'GET', pattern: base, handler: (req) => ok(paginate(entitiesOf(req.state.snapshot, kind.path), req.query, req.path)) },
    {
      method: 'POST',
      pattern: base,
      handler: () => {
        throw unsupported('create', kind);
      },
    },
    { method: 'GET', pattern: one, handler: (req) => ok(mustFind(req, kind.path, param(req, 'id'))) },
    {
      method: 'PUT',
      pattern: one,
      handler: (req) => {
        throw unsupported('create or update', kind, param(req, 'id'));
      },
    },
    {
      method: 'PATCH',
      pattern: one,
      handler: (req) => {
        mustFind(req, kind.path, param(req, 'id'));
        throw unsupported('update', kind, param(req, 'id'));
      },
    },
    {
      method: 'DELETE',
      pattern: one,
      handler: (req) => {
        if (!findEntity(req.state.snapshot, kind.path, param(req, 'id'))) return { status: 204 };
        throw unsupported('remove', kind, param(req, 'id'));
      },
    },
  ];
  for (const [field, targetPath] of Object.entries(kind.foreign)) routes.push(...foreignRoutes(kind, field, kindOf(targetPath)));
  return routes;
}

/** `/routes/{r}/service`: the entity a foreign key points at. */
function foreignRoutes(kind: EntityKind, field: string, target: EntityKind): AdminRoute[] {
  const pattern = `/${kind.path}/:id/${field}`;
  const referenced = (req: AdminRequest): KongEntity => {
    const id = foreignId(mustFind(req, kind.path, param(req, 'id')), field);
    if (id === undefined) throw new AdminError('NOT_FOUND');
    return mustFind(req, target.path, id);
  };
  return [
    { method: 'GET', pattern, handler: (req) => ok(referenced(req)) },
    {
      method: 'PATCH',
      pattern,
      handler: (req) => {
        referenced(req);
        throw unsupported('update', target);
      },
    },
    {
      method: 'DELETE',
      pattern,
      handler: (req) => {
        referenced(req);
        throw new AdminError('METHOD_NOT_ALLOWED');
      },
    },
  ];
}

/** `/services/{s}/routes` and `/services/{s}/routes/{r}`. */
function nestedRoutes(nesting: Nesting): AdminRoute[] {
  const parent = kindOf(nesting.parent);
  const child = kindOf(nesting.child);
  const list = `/${parent.path}/:id/${nesting.segment}`;
  const one = `${list}/:child`;
  const children = (req: AdminRequest): readonly KongEntity[] => {
    const owner = mustFind(req, parent.path, param(req, 'id'));
    return entitiesOf(req.state.snapshot, child.path).filter((e) => foreignId(e, nesting.field) === owner.id);
  };
  const existing = (req: AdminRequest): KongEntity => mustFind(req, child.path, param(req, 'child'), children(req));
  const refuse = (op: Op) => (req: AdminRequest): never => {
    existing(req);
    throw unsupported(op, child);
  };
  return [
    { method: 'GET', pattern: list, handler: (req) => ok(paginate(children(req), req.query, req.path)) },
    {
      method: 'POST',
      pattern: list,
      handler: (req) => {
        children(req);
        throw unsupported('create', child);
      },
    },
    { method: 'GET', pattern: one, handler: (req) => ok(existing(req)) },
    { method: 'PUT', pattern: one, handler: refuse('create or update') },
    { method: 'PATCH', pattern: one, handler: refuse('update') },
    { method: 'DELETE', pattern: one, handler: refuse('remove') },
  ];
}

export const entityRoutes: readonly AdminRoute[] = [...ENTITY_KINDS.flatMap(kindRoutes), ...NESTINGS.flatMap(nestedRoutes)];
