import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import type { EchoedRequest } from '../helpers/servers.ts';
import { useEchoGateway } from '../helpers/gateway.ts';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

describe('correlation-id plugin', () => {
  const ctx = useEchoGateway((upstream) => `
_format_version: "3.0"
services:
  - name: echo
    url: ${upstream}
    routes:
      - name: default
        paths: [/default]
        plugins: [{ name: correlation-id }]
      - name: uuid
        paths: [/uuid]
        plugins: [{ name: correlation-id, config: { generator: uuid, header_name: X-Trace, echo_downstream: true } }]
      - name: tracker
        paths: [/tracker]
        plugins: [{ name: correlation-id, config: { generator: tracker, echo_downstream: true } }]
      - name: terminated
        paths: [/terminated]
        plugins:
          - { name: correlation-id, config: { echo_downstream: true } }
          - { name: request-termination, config: { status_code: 403, message: closed } }
`);

  async function call(path: string, headers: Record<string, string> = {}) {
    const res = await request(`${ctx.gw.proxyUrl}${path}`, { headers });
    const echoed = (await res.body.json()) as EchoedRequest;
    return { res, echoed };
  }

  test('default: Kong-Request-ID with uuid#counter upstream, counting up, not echoed', async () => {
    const first = await call('/default');
    const second = await call('/default');
    const a = String(first.echoed.headers['kong-request-id']);
    const b = String(second.echoed.headers['kong-request-id']);
    assert.match(a, new RegExp(`^${UUID}#\\d+$`));
    const [uuidA, countA] = a.split('#');
    const [uuidB, countB] = b.split('#');
    assert.equal(uuidA, uuidB, 'one uuid per process');
    assert.ok(Number(countB) > Number(countA));
    assert.equal(first.res.headers['kong-request-id'], undefined);
  });

  test('an id sent by the client is kept', async () => {
    const { echoed } = await call('/default', { 'kong-request-id': 'client-id-1' });
    assert.equal(echoed.headers['kong-request-id'], 'client-id-1');
  });

  test('uuid generator, custom header name, echoed downstream', async () => {
    const { res, echoed } = await call('/uuid');
    const id = String(echoed.headers['x-trace']);
    assert.match(id, new RegExp(`^${UUID}$`));
    assert.equal(res.headers['x-trace'], id);
    const kept = await call('/uuid', { 'X-Trace': 'abc' });
    assert.equal(kept.echoed.headers['x-trace'], 'abc');
    assert.equal(kept.res.headers['x-trace'], 'abc');
  });

  test('tracker generator: host-port-pid-sequence-seconds', async () => {
    const { res, echoed } = await call('/tracker');
    const id = String(echoed.headers['kong-request-id']);
    assert.match(id, new RegExp(`^127\\.0\\.0\\.1-${ctx.gw.proxyPort}-${process.pid}-\\d+-\\d+\\.\\d{3}$`));
    assert.equal(res.headers['kong-request-id'], id);
  });

  test('echoed on an answer from another plugin too', async () => {
    const res = await request(`${ctx.gw.proxyUrl}/terminated`);
    assert.equal(res.statusCode, 403);
    assert.deepEqual(await res.body.json(), { message: 'closed' });
    assert.match(String(res.headers['kong-request-id']), new RegExp(`^${UUID}#\\d+$`));
  });
});
