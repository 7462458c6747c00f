import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startGateway } from '../helpers/gateway.ts';

const LOOPBACK = { host: '127.0.0.1', port: 0 };
const listen = { proxy: [LOOPBACK], admin: [], internal: [LOOPBACK], status: [LOOPBACK] };

describe('internal and status listeners', () => {
  test('the internal listener refuses peers outside internal_allow with 403', async () => {
    const gw = await startGateway('_format_version: "3.0"\n', { listen, internalAccess: { allow: ['10.0.0.0/8'] } });
    try {
      const res = await request(`http://${gw.gateway.addresses.internal[0]}/pub/chat`, { method: 'POST', body: 'hi' });
      assert.equal(res.statusCode, 403);
      assert.equal(((await res.body.json()) as { code: string }).code, 'FORBIDDEN');
    } finally {
      await gw.close();
    }
  });

  test('with internal_token set, a request needs the bearer token', async () => {
    const gw = await startGateway('_format_version: "3.0"\n', { listen, internalAccess: { allow: ['127.0.0.0/8'], token: 's3cret' } });
    const url = `http://${gw.gateway.addresses.internal[0]}/pub/chat`;
    try {
      for (const authorization of [undefined, 'Bearer wrong', 'Bearer s3cret-but-longer', 'Basic s3cret']) {
        const res = await request(url, authorization ? { headers: { authorization } } : {});
        assert.equal(res.statusCode, 401, String(authorization));
        assert.match(String(res.headers['www-authenticate']), /^Bearer/);
        await res.body.dump();
      }
      const admitted = await request(url, { headers: { authorization: 'Bearer s3cret' } });
      assert.equal(admitted.statusCode, 404, 'admitted; nothing is served there yet');
      await admitted.body.dump();
    } finally {
      await gw.close();
    }
  });

  test('nothing on the proxy listener reaches the internal listener, whatever the path', async () => {
    const gw = await startGateway('_format_version: "3.0"\n', { listen, internalAccess: { allow: ['127.0.0.0/8'] } });
    try {
      for (const path of ['/pub/chat', '/internal/pub/chat', '/../pub/chat', '/%2e%2e/pub/chat']) {
        const res = await request(`${gw.proxyUrl}${path}`, { method: 'POST', body: 'x' });
        assert.equal(res.statusCode, 404, path);
        assert.equal(((await res.body.json()) as { code: string }).code, 'NO_ROUTE', path);
      }
    } finally {
      await gw.close();
    }
  });

  test('the status listener answers readiness and the config hash', async () => {
    const gw = await startGateway('_format_version: "3.0"\n', { listen, internalAccess: { allow: [] } });
    try {
      const base = `http://${gw.gateway.addresses.status[0]}`;
      const ready = await request(`${base}/status/ready`);
      assert.equal(ready.statusCode, 200);
      assert.deepEqual(await ready.body.json(), { message: 'ready' });
      const status = (await (await request(`${base}/status`)).body.json()) as { configuration_hash: string };
      assert.equal(status.configuration_hash, gw.gateway.current.snapshot.hash);
    } finally {
      await gw.close();
    }
  });
});
