import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { downstreamResponseHeaders, upstreamRequestHeaders, type UpstreamHeaderInput } from '../../src/proxy/headers.ts';
import { makeService, makeUpstream } from '../integration/proxy-harness.ts';

const service = makeService({ host: 'api.internal', port: 8080 });

function input(overrides: Partial<UpstreamHeaderInput> = {}): UpstreamHeaderInput {
  return {
    headers: {
      host: 'gw.example.com:8000',
      'user-agent': 'test',
      connection: 'keep-alive, X-Secret',
      'keep-alive': 'timeout=5',
      'x-secret': 'drop me',
      'proxy-authorization': 'Basic abc',
      'proxy-connection': 'keep-alive',
      te: 'trailers',
      trailer: 'x-t',
      'transfer-encoding': 'chunked',
      upgrade: 'h2c',
      expect: '100-continue',
      'x-forwarded-for': '9.9.9.9',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'spoofed.example',
      'x-forwarded-port': '443',
      'x-forwarded-path': '/spoof',
      'x-forwarded-prefix': '/spoof',
      'x-real-ip': '9.9.9.9',
      'set-cookie-ish': ['a', 'b'],
    },
    peerIp: '1.2.3.4',
    peerTrusted: false,
    clientIp: '1.2.3.4',
    scheme: 'http',
    listenerPort: 8000,
    path: '/api/users',
    preserveHost: false,
    service,
    ...overrides,
  };
}

describe('upstreamRequestHeaders', () => {
  it('strips hop-by-hop headers and those Connection lists', () => {
    const out = upstreamRequestHeaders(input());
    for (const name of ['connection', 'keep-alive', 'x-secret', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect']) {
      assert.equal(out[name], undefined, name);
    }
    assert.equal(out['user-agent'], 'test');
    assert.deepEqual(out['set-cookie-ish'], ['a', 'b']);
  });

  it("drops the client's identity headers only when plugins ran (the gateway sets its own then)", () => {
    const identity = { 'x-consumer-id': 'spoofed', 'x-consumer-username': 'u', 'x-consumer-custom-id': 'c', 'x-credential-identifier': 'i', 'x-anonymous-consumer': 'true', 'x-consumer-groups': 'admin' };
    const headers = { ...input().headers, ...identity };
    const withPlugins = upstreamRequestHeaders(input({ headers, dropIdentity: true }));
    for (const name of Object.keys(identity)) assert.equal(withPlugins[name], undefined, name);
    assert.equal(withPlugins['user-agent'], 'test');
    const without = upstreamRequestHeaders(input({ headers }));
    for (const [name, value] of Object.entries(identity)) assert.equal(without[name], value, name);
  });

  it('replaces forwarded headers from an untrusted peer', () => {
    const out = upstreamRequestHeaders(input({ strippedPrefix: '/api' }));
    assert.equal(out['x-forwarded-for'], '1.2.3.4');
    assert.equal(out['x-forwarded-proto'], 'http');
    assert.equal(out['x-forwarded-host'], 'gw.example.com');
    assert.equal(out['x-forwarded-port'], '8000');
    assert.equal(out['x-forwarded-path'], '/api/users');
    assert.equal(out['x-forwarded-prefix'], '/api');
    assert.equal(out['x-real-ip'], '1.2.3.4');
  });

  it('keeps forwarded headers from a trusted peer and appends the peer to X-Forwarded-For', () => {
    const out = upstreamRequestHeaders(input({ peerTrusted: true, peerIp: '10.0.0.1', clientIp: '9.9.9.9' }));
    assert.equal(out['x-forwarded-for'], '9.9.9.9, 10.0.0.1');
    assert.equal(out['x-forwarded-proto'], 'https');
    assert.equal(out['x-forwarded-host'], 'spoofed.example');
    assert.equal(out['x-forwarded-port'], '443');
    assert.equal(out['x-forwarded-path'], '/spoof');
    assert.equal(out['x-forwarded-prefix'], '/spoof');
    assert.equal(out['x-real-ip'], '9.9.9.9');
  });

  it('sets Host from the service, the upstream host_header, or the client (preserve_host)', () => {
    assert.equal(upstreamRequestHeaders(input()).host, 'api.internal:8080');
    assert.equal(upstreamRequestHeaders(input({ service: makeService({ host: 'a.b', port: 80 }) })).host, 'a.b');
    assert.equal(upstreamRequestHeaders(input({ service: makeService({ host: 'a.b', port: 443, protocol: 'https' }) })).host, 'a.b');
    const upstream = makeUpstream(['127.0.0.1:1'], { host_header: 'virtual.example' });
    assert.equal(upstreamRequestHeaders(input({ upstream })).host, 'virtual.example');
    assert.equal(upstreamRequestHeaders(input({ preserveHost: true })).host, 'gw.example.com:8000');
  });

  it('keeps Upgrade and Connection for a WebSocket upgrade', () => {
    const out = upstreamRequestHeaders(
      input({ upgrade: true, headers: { host: 'gw', connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'k' } }),
    );
    assert.equal(out.upgrade, 'websocket');
    assert.equal(out.connection, 'Upgrade');
    assert.equal(out['sec-websocket-key'], 'k');
  });
});

describe('downstreamResponseHeaders', () => {
  it('strips hop-by-hop and Connection-listed headers and appends Via', () => {
    const out = downstreamResponseHeaders(
      {
        'content-type': 'text/plain',
        connection: 'keep-alive, x-internal',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        'x-internal': 'secret',
        'set-cookie': ['a=1', 'b=2'],
        via: '1.0 upstream-cache',
      },
      { via: '1.1 sluice/0.1.0' },
    );
    assert.deepEqual(out, {
      'content-type': 'text/plain',
      'set-cookie': ['a=1', 'b=2'],
      via: '1.0 upstream-cache, 1.1 sluice/0.1.0',
    });
  });
});
