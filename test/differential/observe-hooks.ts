/**
 * What a client observes of nchan's hooks (nchan_publisher_upstream_request,
 * nchan_authorize_request on publishers and subscribers, X-Accel-Redirect on a WebSocket), as
 * plain data, so real nchan and Sluice can be compared (test/differential/hooks-vs-nchan.test.ts).
 *
 * Both servers serve the same paths (`HOOK_PATHS`) and call one test app (`startHookApp`):
 * its `/upstream` and `/auth` answer with the status the client put in `x-code` (`hang` never
 * answers, `drop` closes the connection), and `/hook-app/<id>` answers with
 * `X-Accel-Redirect: /hook-internal/<id>`.
 *
 * @example
 *   const app = await startHookApp();
 *   const seen = await HOOK_SCENARIOS.upstreamStatuses(target); // target serves HOOK_PATHS
 */
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import WebSocket from 'ws';
import { startServer, type TestServer } from '../helpers/servers.ts';
import { channel, http, openWebSocket, waitForSubscribers, type Target } from './observe.ts';

/** Paths both servers serve; `/pub/<id>` and `/sub/<id>` are plain publisher and subscriber. */
export const HOOK_PATHS = {
  upstream: (id: string) => `/hook-pub-up/${id}`,
  authorizedPub: (id: string) => `/hook-pub-auth/${id}`,
  authorizeDownPub: (id: string) => `/hook-pub-auth-down/${id}`,
  authorizedSub: (id: string) => `/hook-sub-auth/${id}`,
  app: (id: string) => `/hook-app/${id}`,
  internal: (id: string) => `/hook-internal/${id}`,
};

/** Statuses the publisher upstream hook answers with in `upstreamStatuses`. */
export const UPSTREAM_CODES = [200, 201, 202, 304, 204, 400, 403, 404, 409, 500, 302] as const;
/** Statuses the authorize hook answers a publisher with. */
export const PUB_AUTHORIZE_CODES = [200, 204, 403, 406, 500] as const;
/** Statuses the authorize hook refuses a subscriber with. */
export const SUB_AUTHORIZE_CODES = [403, 406, 500] as const;

/** The test app behind both servers' hooks. */
export async function startHookApp(): Promise<TestServer> {
  const stalled: ServerResponse[] = [];
  const app = await startServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const [path = ''] = (req.url ?? '').split('?');
      if (path.startsWith('/hook-app/')) {
        res.writeHead(200, { 'x-accel-redirect': `/hook-internal/${path.slice('/hook-app/'.length)}`, 'x-accel-buffering': 'no' }).end();
        return;
      }
      const code = String(req.headers['x-code'] ?? '200');
      if (code === 'hang') return void stalled.push(res);
      if (code === 'drop') return void req.socket.destroy();
      const status = Number(code);
      const body = status === 204 || status === 304 ? '' : path === '/upstream' ? `UP(${Buffer.concat(chunks).toString()})` : `auth says ${status}`;
      res.writeHead(status, { 'content-type': path === '/upstream' ? 'text/x-up' : 'text/x-auth', 'x-from': 'app' }).end(body);
    });
  });
  return {
    ...app,
    close: async () => {
      for (const res of stalled) res.destroy();
      await app.close();
    },
  };
}

/** A publish's answer status and what the channel then holds (null: no channel, nothing stored). */
export interface PublishObservation {
  status: number;
  stored: { body: string; 'content-type': string | undefined } | null;
}

async function publishObservation(t: Target, url: string, headers: Record<string, string>): Promise<PublishObservation> {
  const id = /\/([^/]+)$/.exec(url)![1]!;
  const res = await http(url, { method: 'POST', headers: { 'content-type': 'text/plain', ...headers }, body: 'hello', timeoutMs: 10_000 });
  const info = await http(t.pubBase + t.paths.pub(id));
  if (info.status === 404) return { status: res.status, stored: null };
  const oldest = await http(t.subBase + t.paths.sub(id));
  const contentType = oldest.headers['content-type'];
  return { status: res.status, stored: { body: oldest.body, 'content-type': typeof contentType === 'string' ? contentType : undefined } };
}

/** The status (and for a refusal, what matters of the answer) of a WebSocket handshake. */
async function handshakeStatus(url: string): Promise<number> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'));
  ws.once('error', () => undefined); // "closed before the connection was established": expected
  const [, res] = (await Promise.race([once(ws, 'unexpected-response'), once(ws, 'open').then(() => [undefined, { statusCode: 101 }])])) as [unknown, IncomingMessage];
  res.resume?.();
  ws.terminate();
  return res.statusCode ?? 0;
}

/** Frames a WebSocket gets until one reads `last`. */
async function framesUntil(client: Awaited<ReturnType<typeof openWebSocket>>, last: string): Promise<string[]> {
  while (!client.frames.some((frame) => frame.text === last)) await client.waitFrames(client.frames.length + 1);
  return client.frames.map((frame) => frame.text);
}

export const HOOK_SCENARIOS = {
  /** nchan_publisher_upstream_request: what each status of the app does to a publish. */
  async upstreamStatuses(t: Target) {
    const out: Record<string, PublishObservation> = {};
    for (const code of UPSTREAM_CODES) out[code] = await publishObservation(t, t.pubBase + HOOK_PATHS.upstream(channel(`up${code}`)), { 'x-code': String(code) });
    return out;
  },

  /** The publisher upstream hook closing the connection, or not answering within 1 s. */
  async upstreamNoAnswer(t: Target) {
    const out: Record<string, PublishObservation> = {};
    for (const code of ['drop', 'hang']) out[code] = await publishObservation(t, t.pubBase + HOOK_PATHS.upstream(channel(`up-${code}`)), { 'x-code': code });
    return out;
  },

  /** nchan_authorize_request on a publisher: a publish per status; info and delete refused; down; slow. */
  async publisherAuthorize(t: Target) {
    const publishes: Record<string, PublishObservation> = {};
    for (const code of PUB_AUTHORIZE_CODES) publishes[code] = await publishObservation(t, t.pubBase + HOOK_PATHS.authorizedPub(channel(`pa${code}`)), { 'x-code': String(code) });
    const id = channel('pa-other');
    const info = await http(t.pubBase + HOOK_PATHS.authorizedPub(id), { headers: { 'x-code': '403' } });
    const del = await http(t.pubBase + HOOK_PATHS.authorizedPub(id), { method: 'DELETE', headers: { 'x-code': '403' } });
    const down = await publishObservation(t, t.pubBase + HOOK_PATHS.authorizeDownPub(channel('pa-down')), {});
    const slow = await publishObservation(t, t.pubBase + HOOK_PATHS.authorizedPub(channel('pa-slow')), { 'x-code': 'hang' });
    return { publishes, infoRefused: info.status, deleteRefused: del.status, down, slow };
  },

  /** nchan_authorize_request on a subscriber: the refusal the client gets, per status. */
  async subscriberAuthorize(t: Target) {
    const out: Record<string, { status: number; 'content-type': unknown; 'x-from': unknown; body: string }> = {};
    for (const code of SUB_AUTHORIZE_CODES) {
      const res = await http(t.subBase + HOOK_PATHS.authorizedSub(channel(`sa${code}`)), { headers: { 'x-code': String(code) } });
      out[code] = { status: res.status, 'content-type': res.headers['content-type'], 'x-from': res.headers['x-from'], body: res.body };
    }
    return out;
  },

  /**
   * A WebSocket upgrade proxied to the app, redirected to the internal subscriber location: it
   * streams the channel; `last_event_id` in the client's query (the redirect target has none);
   * the internal location asked directly.
   */
  async accelRedirectWebSocket(t: Target) {
    const live = channel('ws-live');
    const client = await openWebSocket(t.subBase + HOOK_PATHS.app(live));
    await waitForSubscribers(t, live, 1);
    await http(t.pubBase + t.paths.pub(live), { method: 'POST', body: 'live' });
    const liveFrames = await framesUntil(client, 'live');
    client.close();

    const resumed = channel('ws-resume');
    const first = await http(t.pubBase + t.paths.pub(resumed), { method: 'POST', body: 'm1', headers: { accept: 'text/json' } });
    const firstId = (JSON.parse(first.body) as { last_message_id: string }).last_message_id;
    await http(t.pubBase + t.paths.pub(resumed), { method: 'POST', body: 'm2' });
    const resuming = await openWebSocket(`${t.subBase}${HOOK_PATHS.app(resumed)}?last_event_id=${encodeURIComponent(firstId)}`);
    await waitForSubscribers(t, resumed, 1);
    await http(t.pubBase + t.paths.pub(resumed), { method: 'POST', body: 'm3' });
    const resumeFrames = await framesUntil(resuming, 'm3');
    resuming.close();

    return { liveFrames, resumeFrames, internalDirect: await handshakeStatus(t.subBase + HOOK_PATHS.internal(channel('ws-direct'))) };
  },
};

export type HookScenarioName = keyof typeof HOOK_SCENARIOS;
export type HookObservation<N extends HookScenarioName> = Awaited<ReturnType<(typeof HOOK_SCENARIOS)[N]>>;
