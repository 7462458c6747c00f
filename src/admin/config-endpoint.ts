import { loadDeclarativeConfig } from '../config/load.ts';
import type { Snapshot } from '../config/types.ts';
import type { RequestBody } from './body.ts';
import { declarativeError } from './declarative-errors.ts';
import { ENTITY_KINDS, entitiesOf } from './entities.ts';
import { AdminError } from './errors.ts';
import type { AdminReply, AdminRequest, AdminRoute } from './types.ts';

/**
 * `POST /config`, DB-less Kong's way to replace the whole configuration. The config comes as
 * the body (YAML or JSON text, or a JSON object with `_format_version`), or as a `config` field
 * (JSON string or object, form field, multipart part as `curl -F config=@kong.yml` sends).
 * It is validated by the same loader as the file, then swapped in atomically; on any error
 * the running config stays.
 *
 * - 201 with the loaded entities, `{ "services": { "<id>": {...} }, ... }`;
 * - `?check_hash=1`: 304 when the config's hash equals the running one (nothing reloaded);
 * - 400 code 14 with `fields`, or `flattened_errors` with `?flatten_errors=1`.
 *
 * ```sh
 * curl -X POST localhost:8001/config -F config=@kong.yml
 * ```
 */

const FILENAME = 'config';

export const configRoutes: readonly AdminRoute[] = [{ method: 'POST', pattern: '/config', handler: postConfig }];

function postConfig(req: AdminRequest): AdminReply {
  const { deps, query } = req;
  const text = configText(req.body);
  const flatten = isOn(query.get('flatten_errors'));
  const result = loadDeclarativeConfig(text, { filename: FILENAME, registry: deps.registry });
  if (!result.ok) {
    deps.logger.warn({ event: 'reload_failed', source: 'admin', code: 'CONFIG_INVALID', errors: result.errors.length }, 'POST /config rejected; keeping the running config');
    deps.metrics?.configReload('failed');
    throw declarativeError(result.errors, text, { flatten });
  }
  if (isOn(query.get('check_hash')) && result.snapshot.hash === deps.getState().snapshot.hash) return { status: 304 };
  try {
    deps.reload(result.snapshot, text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    deps.logger.warn({ event: 'reload_failed', source: 'admin', code: 'CONFIG_INVALID', error: message }, 'POST /config rejected; keeping the running config');
    throw declarativeError([{ entityPath: '', message, file: FILENAME, line: 1, column: 1 }], text, { flatten });
  }
  deps.logger.info({ event: 'reloaded', source: 'admin', config_hash: result.snapshot.hash }, 'configuration reloaded');
  return { status: 201, body: loadedEntities(result.snapshot) };
}

function configText(body: RequestBody): string {
  const missing = () => new AdminError('NO_CONFIG');
  switch (body.kind) {
    case 'none':
      throw missing();
    case 'text':
      return body.raw;
    case 'form':
      return body.fields.get('config') ?? body.raw;
    case 'json': {
      const value = body.value;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw missing();
      const record = value as Record<string, unknown>;
      // The raw text keeps line numbers meaningful in the errors.
      if ('_format_version' in record) return body.raw;
      if (typeof record.config === 'string') return record.config;
      if (typeof record.config === 'object' && record.config !== null) return JSON.stringify(record.config, null, 2);
      throw missing();
    }
  }
}

/** Kong's flags are on when present, unless spelled as off. */
function isOn(value: string | null): boolean {
  return value !== null && !['0', 'false', 'off', 'no'].includes(value.toLowerCase());
}

/** What Kong answers a successful load with: entity type → id → entity. */
function loadedEntities(snapshot: Snapshot): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const kind of ENTITY_KINDS) {
    const list = entitiesOf(snapshot, kind.path);
    if (list.length > 0) out[kind.dao] = Object.fromEntries(list.map((e) => [e.id, e]));
  }
  return out;
}
