/**
 * `kong.request.getHeaders()` is built in one pass over Node's raw header list: it must say what
 * `headersDistinct` says (lower-case names, every value, in order), a value sent once as a string.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { distinctHeaders } from '../../src/plugins/pdk/request-api.ts';

/** Sends `head` over a raw socket and resolves with the request Node parsed. */
async function received(head: string): Promise<IncomingMessage> {
  const server = createServer((req, res) => {
    res.end();
    server.emit('seen', req);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    const seen = once(server, 'seen');
    socket.end(head);
    const [req] = (await seen) as [IncomingMessage];
    socket.destroy();
    return req;
  } finally {
    server.close();
  }
}

describe('kong.request.getHeaders (distinctHeaders)', () => {
  it("matches Node's headersDistinct: names lower-cased, repeats kept in order, single values as strings", async () => {
    const req = await received(
      'GET /x HTTP/1.1\r\nHost: a.test\r\nApiKey: one\r\nX-Multi: 1\r\nx-multi: 2\r\nX-MULTI: 3\r\nAuthorization: first\r\nAuthorization: second\r\nCookie: a=1\r\nCookie: b=2\r\nX-Comma: a, b\r\nConnection: close\r\n\r\n',
    );
    const expected: Record<string, string | string[]> = {};
    for (const [name, values = []] of Object.entries(req.headersDistinct)) expected[name] = values.length === 1 ? values[0]! : values;
    const headers = distinctHeaders(req.rawHeaders);
    assert.deepEqual(headers, expected);
    assert.deepEqual(headers['x-multi'], ['1', '2', '3']);
    // Node keeps only the first Authorization in req.headers; a key sent twice must still show as two.
    assert.deepEqual(headers.authorization, ['first', 'second']);
    assert.equal(headers['x-comma'], 'a, b', 'one header whose value has a comma is one value');
    assert.equal(headers.apikey, 'one');
  });

  it('header names that are Object.prototype members are plain entries (no crash, no prototype change)', () => {
    const headers = distinctHeaders(['__proto__', 'x', 'Constructor', 'c1', 'constructor', 'c2', 'toString', 't']);
    assert.equal(Object.getPrototypeOf(headers), Object.prototype);
    assert.deepEqual(headers.constructor, ['c1', 'c2']);
    assert.equal(headers.tostring, 't');
  });
});
