/**
 * A small fake of the plugin PDK for the auth plugins' unit tests (key-auth, basic-auth, acl):
 * a request to read, a record of what the plugin did to the upstream request and the client,
 * and `compile` run against a snapshot loaded from kong.yml by the real loader.
 */
import type { Consumer, Credential, Snapshot } from '../../src/config/types.ts';
import { createHub, createMemoryEngine } from '../../src/pubsub/index.ts';
import type { CompileEnv, PluginDefinition, PluginHandler } from '../../src/plugins/contract.ts';
import type { HeaderValue, Pdk } from '../../src/plugins/pdk/types.ts';
import { PluginRegistry } from '../../src/plugins/registry.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { loadDeclarativeConfig, formatConfigError } from '../../src/config/load.ts';

export interface FakeRequest {
  method?: string;
  /** Lower-case names; an array is a header sent several times. */
  headers?: Record<string, string | string[]>;
  /** Raw query string, without `?`. */
  query?: string;
  body?: unknown;
  /** Already authenticated by an earlier plugin. */
  consumer?: Consumer;
  credential?: Credential;
  shared?: Record<string, unknown>;
}

export interface Outcome {
  exit?: { status: number; message: string | undefined; headers: Readonly<Record<string, HeaderValue>> | undefined };
  authenticated?: { consumer: Consumer | undefined; credential: Credential | undefined; anonymous: boolean };
  /** Upstream header changes: value set, or null when cleared. */
  upstreamHeaders: Record<string, string | null>;
  rawQuery?: string;
  body?: { value: unknown; contentType: string | undefined };
  bodyReads: number;
  errors: string[];
}

/** Loads consumers and credentials (no plugins) the way the gateway does. */
export function loadSnapshot(yaml: string): Snapshot {
  const result = loadDeclarativeConfig(yaml, { filename: 'test.yml', registry: new PluginRegistry() });
  if (!result.ok) throw new Error(result.errors.map(formatConfigError).join('\n'));
  return result.snapshot;
}

/** Validates `config` against the plugin's schema (defaults applied) and compiles it against `snapshot`. */
export function compileWith<C>(plugin: PluginDefinition, config: Record<string, unknown>, snapshot: Snapshot, memo = new Map<string, unknown>()): C {
  const registry = new PluginRegistry();
  registry.register(plugin);
  const checked = registry.validateConfig(plugin.name, config);
  if (!checked.ok) throw new Error(checked.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));
  const handler = plugin.handler as unknown as PluginHandler<Record<string, unknown>, C>;
  const env: CompileEnv = {
    snapshot,
    instance: { id: 'test', name: plugin.name, config: checked.config, protocols: ['http', 'https'], enabled: true, tags: [] },
    logger: silentLogger(),
    hub: createHub({ engine: createMemoryEngine() }),
    memo<T>(key: string, build: () => T): T {
      if (!memo.has(key)) memo.set(key, build());
      return memo.get(key) as T;
    },
  };
  if (!handler.compile) return checked.config as C;
  return handler.compile(checked.config, env);
}

/** Runs one plugin's access phase on a fake request; returns what it did. */
export async function runAccess<C>(
  plugin: PluginDefinition,
  conf: C,
  snapshot: Snapshot,
  req: FakeRequest = {},
): Promise<Outcome> {
  const { pdk, outcome } = fakePdk(snapshot, req);
  const handler = plugin.handler as unknown as PluginHandler<Record<string, unknown>, C>;
  await handler.access?.(pdk, conf);
  return outcome;
}

export function fakePdk(snapshot: Snapshot, req: FakeRequest): { pdk: Pdk; outcome: Outcome } {
  const outcome: Outcome = { upstreamHeaders: {}, bodyReads: 0, errors: [] };
  const headers = req.headers ?? {};
  const rawQuery = req.query ?? '';
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(rawQuery)) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  let consumer = req.consumer;
  let credential = req.credential;
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const unused = (): never => {
    throw new Error('not used by these plugins');
  };
  const pdk = {
    phase: 'access',
    requestId: 'req-1',
    request: {
      getMethod: () => req.method ?? 'GET',
      getHeader: (name: string) => first(headers[name.toLowerCase()]),
      getHeaders: () => headers,
      getRawQuery: () => rawQuery,
      getQuery: () => query,
      getQueryArg: (name: string) => first(query[name]),
      getBody: async () => {
        outcome.bodyReads += 1;
        return req.body;
      },
    },
    response: {
      error: (status: number, message?: string, hdrs?: Readonly<Record<string, HeaderValue>>) => {
        outcome.exit = { status, message, headers: hdrs };
      },
    },
    service: {
      request: {
        setHeader: (name: string, value: HeaderValue) => {
          outcome.upstreamHeaders[name.toLowerCase()] = String(value);
        },
        clearHeader: (name: string) => {
          outcome.upstreamHeaders[name.toLowerCase()] = null;
        },
        setRawQuery: (q: string) => {
          outcome.rawQuery = q;
        },
        setBody: (value: unknown, contentType?: string) => {
          outcome.body = { value, contentType };
        },
      },
    },
    client: {
      getConsumer: () => consumer,
      getCredential: () => credential,
      authenticate: (c: Consumer | undefined, cred: Credential | undefined, options?: { anonymous?: boolean }) => {
        consumer = c;
        credential = cred;
        outcome.authenticated = { consumer: c, credential: cred, anonymous: options?.anonymous === true };
      },
      loadConsumer: (idOrUsername: string) =>
        snapshot.consumers.get(idOrUsername) ?? [...snapshot.consumers.values()].find((c) => c.username === idOrUsername),
      getIp: unused,
      getForwardedIp: unused,
    },
    router: { getRoute: unused, getService: unused },
    ctx: { shared: req.shared ?? {}, plugin: {} },
    log: {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: (message: string) => void outcome.errors.push(message),
    },
  };
  return { pdk: pdk as unknown as Pdk, outcome };
}

/** A consumer of the snapshot by username (throws when absent: a broken fixture). */
export function consumerNamed(snapshot: Snapshot, username: string): Consumer {
  const found = [...snapshot.consumers.values()].find((c) => c.username === username);
  if (!found) throw new Error(`no consumer ${username}`);
  return found;
}
