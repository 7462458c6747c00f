import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { VERSION } from '../version.ts';
import type { Hub, HubCounters } from '../pubsub/hub.ts';
import type { RuntimeState } from './state.ts';
import { handleChannels } from '../admin/channels.ts';

export interface AdminDeps {
  readonly nodeId: string;
  readonly getState: () => RuntimeState;
  readonly connections: () => number;
  readonly hub: Hub;
}

/**
 * The admin listener's answers that the gateway core provides (`GET /`, `GET /status`).
 * The full Kong-shaped Admin API is built on this listener later.
 */
export function createAdminHandler(deps: AdminDeps) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (handleChannels(req, res, path, { hub: deps.hub, consumers: () => deps.getState().snapshot.consumers })) return;
    if (req.method === 'GET' && path === '/') {
      return json(res, 200, { version: VERSION, tagline: 'Welcome to sluice', node_id: deps.nodeId, hostname: hostname() });
    }
    if (req.method === 'GET' && path === '/status') {
      void deps.hub.counters().then(
        (pubsub) => json(res, 200, { ...statusBody(deps.getState(), deps.connections()), pubsub: pubsubStatus(pubsub) }),
        () => json(res, 500, { message: 'An unexpected error occurred', code: 'INTERNAL' }),
      );
      return;
    }
    json(res, 404, { message: 'Not found', code: 'NOT_FOUND' });
  };
}

/** nchan_stub_status's counters, in Kong's snake_case. */
function pubsubStatus(counters: HubCounters) {
  return {
    published_messages: counters.published,
    stored_messages: counters.stored,
    channels: counters.channels,
    subscribers: counters.subscribers,
    slow_consumer_closes: counters.slowConsumers,
  };
}

/**
 * The status listener (Kong's `status_listen`): `GET /status` and the readiness probe
 * `GET /status/ready`, which turns 503 once the node starts draining.
 */
export function createStatusHandler(getState: () => RuntimeState, isStopping: () => boolean) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/status/ready') {
      return isStopping() ? json(res, 503, { message: 'draining', code: 'SHUTTING_DOWN' }) : json(res, 200, { message: 'ready' });
    }
    if (req.method === 'GET' && path === '/status') return json(res, 200, statusBody(getState()));
    json(res, 404, { message: 'Not found', code: 'NOT_FOUND' });
  };
}

function statusBody(state: RuntimeState, connections?: number) {
  const memory = process.memoryUsage();
  return {
    configuration_hash: state.snapshot.hash,
    ...(connections === undefined ? {} : { server: { connections_active: connections } }),
    memory: { rss: memory.rss, heap_used: memory.heapUsed },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
