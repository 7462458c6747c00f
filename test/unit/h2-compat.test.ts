import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { distinctFromRaw, rawWithoutPseudoHeaders, withoutPseudoHeaders } from '../../src/gateway/h2-compat.ts';

describe('HTTP/2 request headers as plugins and upstreams see them', () => {
  const raw = [':method', 'GET', ':path', '/a?b=1', ':authority', 'api.example.test:8443', ':scheme', 'https', 'apikey', 'k1', 'apikey', 'k2', 'Accept', 'text/event-stream'];

  it('drops pseudo-headers and takes Host from :authority', () => {
    assert.deepEqual(rawWithoutPseudoHeaders(raw), ['host', 'api.example.test:8443', 'apikey', 'k1', 'apikey', 'k2', 'Accept', 'text/event-stream']);
    assert.deepEqual(withoutPseudoHeaders({ ':method': 'GET', ':authority': 'api.example.test', 'x-a': '1' }), { 'x-a': '1', host: 'api.example.test' });
  });

  it('keeps a Host the client sent itself', () => {
    assert.deepEqual(rawWithoutPseudoHeaders([':authority', 'a.test', 'host', 'b.test']), ['host', 'b.test']);
    assert.deepEqual(withoutPseudoHeaders({ ':authority': 'a.test', host: 'b.test' }), { host: 'b.test' });
  });

  it('keeps repeated headers apart (a key sent twice is a duplicate, as on HTTP/1.1)', () => {
    assert.deepEqual(distinctFromRaw(rawWithoutPseudoHeaders(raw)), { host: ['api.example.test:8443'], apikey: ['k1', 'k2'], accept: ['text/event-stream'] });
  });
});
