import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { once } from 'node:events';
import WebSocket, { WebSocketServer } from 'ws';
import { rawRequest, startEchoServer, startServer, type EchoedRequest, type TestServer } from '../helpers/servers.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { faulty, noConfigPlugin, registryWithTestPlugins, trailPlugin } from '../helpers/test-plugins.ts';
import type { Pdk } from '../../src/plugins/pdk/types.ts';
import { VERSION } from '../../src/version.ts';

const trailA = trailPlugin('trail-a', 3000);
const trailB = trailPlugin('trail-b', 1000);

async function seen(url: string, headers: Record<string, string> = {}): Promise<{ status: number; echoed: EchoedRequest; out: unknown }> {
  const res = await request(url, { headers });
  const body = (await res.body.json()) as EchoedRequest;
  return { status: res.statusCode, echoed: body, out: res.headers['x-trail-out'] };
}

describe('plugin chain', () => {
  let echo: TestServer;
  before(async () => (echo = await startEchoServer()));
  after(() => echo.close());

  const withConfig = (body: string) => `_format_version: "3.0"
consumers: [{ username: alice }, { username: bob }]
services:
  - name: svc
    url: ${echo.url}
    routes:
      - { name: r1, paths: [/r1] }
      - { name: r2, paths: [/r2] }
      - { name: other, paths: [/other] }
${body}`;

  async function gateway(body: string): Promise<TestGateway> {
    return startGateway(withConfig(body), { registry: registryWithTestPlugins(trailA, trailB) });
  }

  test('plugins run in PRIORITY order; ordering.after overrides it for access only', async () => {
    const gw = await gateway(`plugins:
  - { name: trail-a, config: { tag: g } }
  - { name: trail-b, config: { tag: g } }
  - { name: trail-a, route: r2, config: { tag: r }, ordering: { after: { access: [trail-b] } } }
`);
    try {
      const plain = await seen(`${gw.proxyUrl}/r1`);
      assert.equal(plain.echoed.headers['x-trail'], 'trail-a:g,trail-b:g');
      const reordered = await seen(`${gw.proxyUrl}/r2`);
      assert.equal(reordered.echoed.headers['x-trail'], 'trail-b:g,trail-a:r', 'access phase follows ordering');
      assert.deepEqual(reordered.out, ['trail-a:r', 'trail-b:g'], 'header_filter keeps PRIORITY order');
    } finally {
      await gw.close();
    }
  });

  test('scope precedence: route beats service beats global; consumer configs apply after auth', async () => {
    // trail-b (PRIORITY 1000) runs after header-auth (1250), so the consumer is known for it;
    // trail-a (3000) runs before authentication and can only ever get the general config.
    const gw = await gateway(`plugins:
  - { name: header-auth }
  - { name: trail-b, config: { tag: global } }
  - { name: trail-b, service: svc, config: { tag: service } }
  - { name: trail-b, route: r1, config: { tag: route } }
  - { name: trail-b, route: r1, service: svc, config: { tag: route+service } }
  - { name: trail-b, consumer: alice, config: { tag: alice } }
  - { name: trail-b, route: r1, consumer: bob, config: { tag: r1+bob } }
  - { name: trail-a, config: { tag: global } }
  - { name: trail-a, consumer: alice, config: { tag: alice } }
`);
    try {
      const trail = async (path: string, user?: string) => (await seen(`${gw.proxyUrl}${path}`, user ? { 'x-user': user } : {})).echoed.headers['x-trail'];
      assert.equal(await trail('/r1', 'alice'), 'trail-a:global,trail-b:route+service', 'route+service (level 4) beats consumer (5)');
      assert.equal(await trail('/r2', 'alice'), 'trail-a:global,trail-b:alice', 'consumer (5) beats service (7)');
      assert.equal(await trail('/r1', 'bob'), 'trail-a:global,trail-b:r1+bob', 'route+consumer (2) beats route+service (4)');
      assert.equal(await trail('/r2', 'bob'), 'trail-a:global,trail-b:service');
      const unauthenticated = await request(`${gw.proxyUrl}/r1`);
      assert.equal(unauthenticated.statusCode, 401);
      assert.deepEqual(unauthenticated.headers['x-trail-out'], ['trail-a:global', 'trail-b:route+service'], 'collected plugins still see the 401 in header_filter');
      await unauthenticated.body.dump();
      const upstream = (await seen(`${gw.proxyUrl}/r2`, { 'x-user': 'alice', 'x-consumer-id': 'spoofed' })).echoed.headers;
      assert.equal(upstream['x-consumer-username'], 'alice');
      assert.notEqual(upstream['x-consumer-id'], 'spoofed');
    } finally {
      await gw.close();
    }
  });

  test('exclude switches a global plugin off for one route or service', async () => {
    const gw = await gateway(`plugins:
  - { name: trail-a, config: { tag: g }, exclude: { routes: [r2] } }
  - { name: trail-b, config: { tag: g }, exclude: { services: [svc] } }
`);
    try {
      assert.equal((await seen(`${gw.proxyUrl}/r1`)).echoed.headers['x-trail'], 'trail-a:g');
      assert.equal((await seen(`${gw.proxyUrl}/r2`)).echoed.headers['x-trail'], undefined);
    } finally {
      await gw.close();
    }
  });

  test('a plugin that throws answers 500 and the gateway keeps serving', async () => {
    for (const mode of ['throw', 'reject', 'misuse', 'filter-throw']) {
      const gw = await gateway(`plugins:\n  - { name: faulty, route: r1, config: { mode: ${mode} } }\n`);
      try {
        const res = await request(`${gw.proxyUrl}/r1`);
        assert.equal(res.statusCode, 500, mode);
        const body = (await res.body.json()) as { code: string; message: string };
        assert.equal(body.code, 'INTERNAL', mode);
        const ok = await request(`${gw.proxyUrl}/other`);
        assert.equal(ok.statusCode, 200, `${mode}: other routes unaffected`);
        await ok.body.dump();
      } finally {
        await gw.close();
      }
    }
  });

  test('kong.response.exit answers without calling the upstream', async () => {
    let calls = 0;
    echo.server.on('request', () => calls++);
    const gw = await gateway(`plugins:\n  - { name: faulty, route: r1, config: { mode: exit } }\n  - { name: trail-b, config: { tag: g } }\n`);
    try {
      const before = calls;
      const res = await request(`${gw.proxyUrl}/r1`);
      assert.equal(res.statusCode, 418);
      assert.equal(res.headers['x-exit'], 'yes');
      assert.equal(res.headers['x-trail-out'], 'trail-b:g');
      assert.deepEqual(await res.body.json(), { teapot: true });
      assert.equal(calls, before);
    } finally {
      await gw.close();
    }
  });
});

describe('plugin config errors', () => {
  test('an ordering cycle and a dangling exclude are load-time errors', async () => {
    const { loadDeclarativeConfig, formatConfigError } = await import('../../src/config/load.ts');
    const registry = registryWithTestPlugins(trailA, trailB);
    const result = loadDeclarativeConfig(
      `_format_version: "3.0"
plugins:
  - name: trail-a
    ordering: { before: { access: [trail-b] } }
  - name: trail-b
    ordering: { before: { access: [trail-a] } }
  - name: faulty
    config: { mode: x }
    exclude: { routes: [nope] }
`,
      { filename: 'k.yml', registry },
    );
    assert.equal(result.ok, false);
    const text = result.ok ? '' : result.errors.map(formatConfigError).join('\n');
    assert.match(text, /k\.yml:4:\d+: plugins\[0\]\.ordering .*cycle: trail-a → trail-b → trail-a/);
    assert.match(text, /k\.yml:9:\d+: plugins\[2\]\.exclude\.routes\[0\].*invalid reference/);
    void faulty;
  });
});

/** Edits the response head in access only (as rate-limiting does): set, add, clear, re-set. */
const accessHeaders = noConfigPlugin('access-headers', {
  PRIORITY: 900,
  access(kong: Pdk) {
    kong.response.setHeader('X-Up-A', 'replaced');
    kong.response.addHeader('x-up-b', 'more');
    kong.response.clearHeader('X-Up-C');
    kong.response.clearHeader('x-up-d');
    kong.response.setHeader('X-Up-D', 'moved');
    kong.response.setHeader('X-New', ['n1', 'n2']);
    kong.response.addHeader('X-Added', 'v');
  },
});

/** Has a log phase only: the response head is then held for the phases after access. */
const logOnly = noConfigPlugin('log-only', { PRIORITY: 1, log() {} });

/** Sets a header value Node refuses to write. */
const badHeader = noConfigPlugin('bad-header', {
  PRIORITY: 900,
  access(kong: Pdk) {
    kong.response.setHeader('x-bad', 'a\nb');
  },
});

/** Routes /direct (`plugin` alone: the head goes out as it arrives) and /held (with `log-only`: the head is held). */
function directAndHeld(upstreamUrl: string, plugin: string, moreRoutes = ''): string {
  return `_format_version: "3.0"
services:
  - name: svc
    url: ${upstreamUrl}
    routes:
      - { name: direct, paths: [/direct], plugins: [{ name: ${plugin} }] }
      - { name: held, paths: [/held], plugins: [{ name: ${plugin} }, { name: log-only }] }
${moreRoutes}`;
}

describe('response head after access-phase header edits', () => {
  test('a header value the head cannot carry answers 500 on either path, and the gateway keeps serving', async () => {
    const upstream = await startServer((_req, res) => res.end('ok'));
    const gw = await startGateway(directAndHeld(upstream.url, 'bad-header', '      - { name: fine, paths: [/fine] }\n'), { registry: registryWithTestPlugins(badHeader, logOnly) });
    try {
      for (const path of ['/direct', '/held', '/direct']) {
        const res = await request(`${gw.proxyUrl}${path}`);
        assert.equal(res.statusCode, 500, path);
        assert.equal(((await res.body.json()) as { code: string }).code, 'INTERNAL');
      }
      const fine = await request(`${gw.proxyUrl}/fine`);
      assert.equal(await fine.body.text(), 'ok');
    } finally {
      await gw.close();
      await upstream.close();
    }
  });

  test('the same head whether it goes out as it arrives (no response phase) or is held for one', async () => {
    const upstream = await startServer((_req, res) => {
      res.writeHead(200, ['x-up-a', '1', 'x-up-b', '2', 'x-up-c', '3', 'x-up-d', '4', 'set-cookie', 's1', 'set-cookie', 's2', 'content-type', 'text/plain']);
      res.end('ok');
    });
    const gw = await startGateway(directAndHeld(upstream.url, 'access-headers'), { registry: registryWithTestPlugins(accessHeaders, logOnly) });
    const head = async (path: string) => {
      const res = await rawRequest(gw.proxyPort, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      // Latencies and the date differ between two requests.
      return res.head.split('\r\n').filter((line) => !/^(date|x-kong-(upstream|proxy)-latency):/i.test(line));
    };
    try {
      const direct = await head('/direct');
      assert.deepEqual(direct, await head('/held'));
      assert.deepEqual(direct.slice(1, 11), [
        'x-up-a: replaced',
        'x-up-b: 2',
        'x-up-b: more',
        'set-cookie: s1',
        'set-cookie: s2',
        'content-type: text/plain',
        `via: 1.1 sluice/${VERSION}`,
        'x-up-d: moved',
        'x-new: n1',
        'x-new: n2',
      ]);
      assert.ok(direct.includes('x-added: v'));
      assert.ok(!direct.some((line) => line.startsWith('x-up-c')));
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
});

describe('plugins on WebSocket upgrades', () => {
  test('the chain runs before an upgrade: no key, no socket; a good key gets through with the consumer headers', async () => {
    const upstream = await startServer((_req, res) => res.end());
    const wss = new WebSocketServer({ server: upstream.server });
    wss.on('connection', (socket, req) => socket.send(`hello ${req.headers['x-consumer-username']}`));
    const gw = await startGateway(`_format_version: "3.0"
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
services:
  - name: ws
    url: ${upstream.url}
    routes:
      - name: ws
        paths: [/ws]
        plugins: [{ name: key-auth }]
`);
    try {
      const refused = new WebSocket(`ws://127.0.0.1:${gw.proxyPort}/ws`);
      refused.on('error', () => {});
      const [, res] = (await once(refused, 'unexpected-response')) as [unknown, { statusCode: number }];
      assert.equal(res.statusCode, 401);
      refused.terminate();

      const client = new WebSocket(`ws://127.0.0.1:${gw.proxyPort}/ws?apikey=alice-key`);
      const [message] = (await once(client, 'message')) as [Buffer];
      assert.equal(String(message), 'hello alice');
      client.close();
      await once(client, 'close');
    } finally {
      wss.close();
      await gw.close();
      await upstream.close();
    }
  });
});
