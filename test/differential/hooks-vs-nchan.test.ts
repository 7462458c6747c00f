/**
 * nchan's hooks on real nchan (Debian's libnginx-mod-nchan 1.3.6) and on Sluice: each scenario of
 * ./observe-hooks.ts runs against both. nchan's observation is asserted first (what nchan does,
 * spelled out), then Sluice's is deep-compared with it, allowing only the KNOWN DIFFERENCEs below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '../helpers/gateway.ts';
import { closedPort } from '../helpers/hook-server.ts';
import { NCHAN_PATHS, requireNchan } from '../helpers/nchan.ts';
import type { Target } from './observe.ts';
import { HOOK_SCENARIOS, startHookApp, type HookObservation, type HookScenarioName, type PublishObservation } from './observe-hooks.ts';

/** The hook locations, added to the nchan server of test/helpers/nchan.ts. */
const nchanLocations = (app: number, down: number) => `
    location = /hook/upstream { proxy_pass http://127.0.0.1:${app}/upstream; proxy_read_timeout 1s; }
    location = /hook/auth {
      proxy_pass http://127.0.0.1:${app}/auth;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_read_timeout 1s;
    }
    location = /hook/auth-down { proxy_pass http://127.0.0.1:${down}/auth; }
    location ~ ^/hook-pub-up/(.+)$ { nchan_publisher; nchan_channel_id $1; nchan_publisher_upstream_request /hook/upstream; }
    location ~ ^/hook-pub-auth/(.+)$ { nchan_publisher; nchan_channel_id $1; nchan_authorize_request /hook/auth; }
    location ~ ^/hook-pub-auth-down/(.+)$ { nchan_publisher; nchan_channel_id $1; nchan_authorize_request /hook/auth-down; }
    location ~ ^/hook-sub-auth/(.+)$ { nchan_subscriber; nchan_channel_id $1; nchan_authorize_request /hook/auth; }
    location ^~ /hook-app/ {
      proxy_pass http://127.0.0.1:${app};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
    }
    location ~ ^/hook-internal/(.+)$ { internal; nchan_subscriber; nchan_channel_id $1; }
`;

/** The same locations as Sluice routes (hook deadlines = nchan's proxy_read_timeout, 1 s). */
const sluiceConfig = (app: number, down: number) => {
  const route = (name: string, path: string, plugin: string, config = '') => `
  - name: ${name}
    paths: ["~/${path}/(?<id>.+)$"]
    plugins:
      - name: ${plugin}
        config: { channels: ["$(uri_captures.id)"]${config} }`;
  return `_format_version: "3.0"
services:
  - name: app
    url: http://127.0.0.1:${app}
    routes:
      - { name: hook-app, paths: ["/hook-app/"], strip_path: false }
routes:${route('pub', 'pub', 'pubsub-publisher')}${route('sub', 'sub', 'pubsub-subscriber')}${route('hook-pub-up', 'hook-pub-up', 'pubsub-publisher', `, upstream_url: "http://127.0.0.1:${app}/upstream", upstream_timeout: 1000`)}${route('hook-pub-auth', 'hook-pub-auth', 'pubsub-publisher', `, authorize_url: "http://127.0.0.1:${app}/auth", authorize_timeout: 1000`)}${route('hook-pub-auth-down', 'hook-pub-auth-down', 'pubsub-publisher', `, authorize_url: "http://127.0.0.1:${down}/auth"`)}${route('hook-sub-auth', 'hook-sub-auth', 'pubsub-subscriber', `, authorize_url: "http://127.0.0.1:${app}/auth", authorize_timeout: 1000`)}${route('hook-internal', 'hook-internal', 'pubsub-subscriber')}
    internal: true
`;
};

const published = (body: string, contentType: string, status = 202): PublishObservation => ({ status, stored: { body, 'content-type': contentType } });
const refused = (status: number): PublishObservation => ({ status, stored: null });

/** What nchan 1.3.6 does, observed. */
const NCHAN: { [N in HookScenarioName]: HookObservation<N> } = {
  upstreamStatuses: {
    // 200/201/202 publish the app's body and Content-Type, 304 the original, 204 nothing (204)
    200: published('UP(hello)', 'text/x-up'),
    201: published('UP(hello)', 'text/x-up'),
    202: published('UP(hello)', 'text/x-up'),
    304: published('hello', 'text/plain'),
    204: refused(204),
    // every other status: 403 Forbidden, nothing published, the app's answer not shown
    400: refused(403),
    403: refused(403),
    404: refused(403),
    409: refused(403),
    500: refused(403),
    302: refused(403),
  },
  // DOC does not say: no answer from the upstream hook is a 500 on nchan
  upstreamNoAnswer: { drop: refused(500), hang: refused(500) },
  publisherAuthorize: {
    // DOC ("any other response is passed through"): true for subscribers; a publisher gets 403
    // for any non-2xx, on publish, channel info and delete alike.
    publishes: { 200: published('hello', 'text/plain'), 204: published('hello', 'text/plain'), 403: refused(403), 406: refused(403), 500: refused(403) },
    infoRefused: 403,
    deleteRefused: 403,
    down: refused(502),
    slow: refused(504),
  },
  subscriberAuthorize: {
    403: { status: 403, 'content-type': 'text/x-auth', 'x-from': 'app', body: 'auth says 403' },
    406: { status: 406, 'content-type': 'text/x-auth', 'x-from': 'app', body: 'auth says 406' },
    500: { status: 500, 'content-type': 'text/x-auth', 'x-from': 'app', body: 'auth says 500' },
  },
  accelRedirectWebSocket: {
    liveFrames: ['live'],
    // slact/nchan#451: the redirect drops the client's query, so last_event_id is lost and the
    // subscriber starts from the oldest message.
    resumeFrames: ['m1', 'm2', 'm3'],
    internalDirect: 404,
  },
};

/** Where Sluice differs from nchan, each a KNOWN DIFFERENCE; everything else must match. */
const SLUICE_EXPECTED: { [N in HookScenarioName]?: (nchan: HookObservation<N>) => HookObservation<N> } = {
  // KNOWN DIFFERENCE (src/plugins/bundled/pubsub-publisher/upstream-hook.ts): an upstream hook
  // that does not answer is 502 (connection failed) or 504 (past upstream_timeout), as for the
  // authorize hook, where nchan says 500 for both.
  upstreamNoAnswer: () => ({ drop: refused(502), hang: refused(504) }),
  // KNOWN DIFFERENCE (src/gateway/accel-redirect.ts): Sluice keeps the client's last_event_id
  // across the redirect, so the subscriber resumes after m1.
  accelRedirectWebSocket: (nchan) => ({ ...nchan, resumeFrames: ['m2', 'm3'] }),
};

test('nchan hooks: real nchan, then Sluice against it', async (t) => {
  const app = await startHookApp();
  const down = await closedPort();
  const nchan = await requireNchan(t, { locations: nchanLocations(app.port, down) });
  if (!nchan) return void (await app.close());
  const gw = await startGateway(sluiceConfig(app.port, down), {
    listen: { proxy: [{ host: '127.0.0.1', port: 0 }], admin: [], internal: [{ host: '127.0.0.1', port: 0 }], status: [] },
  });
  const sluice: Target = { name: 'sluice', pubBase: gw.proxyUrl, subBase: gw.proxyUrl, paths: NCHAN_PATHS };
  try {
    for (const name of Object.keys(HOOK_SCENARIOS) as HookScenarioName[]) {
      await t.test(name, async () => {
        const run = HOOK_SCENARIOS[name] as (target: Target) => Promise<HookObservation<typeof name>>;
        const [fromNchan, fromSluice] = await Promise.all([run(nchan.target), run(sluice)]);
        assert.deepStrictEqual(fromNchan, NCHAN[name], `${name} on nchan:\n${JSON.stringify(fromNchan, null, 1)}\n${nchan.errorLog()}`);
        const adjust = SLUICE_EXPECTED[name] as ((o: HookObservation<typeof name>) => HookObservation<typeof name>) | undefined;
        assert.deepStrictEqual(fromSluice, adjust ? adjust(fromNchan) : fromNchan, `${name} on Sluice:\n${JSON.stringify(fromSluice, null, 1)}`);
      });
    }
  } finally {
    await gw.close();
    await nchan.stop();
    await app.close();
  }
});
