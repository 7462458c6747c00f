import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { access, compile } from '../../src/plugins/bundled/request-size-limiting/handler.ts';
import type { Pdk } from '../../src/plugins/pdk/types.ts';

async function run(config: Parameters<typeof compile>[0], headers: Record<string, string>, body = Buffer.alloc(0)) {
  const seen: { status?: number; message?: string; readBody: boolean } = { readBody: false };
  const kong = {
    request: {
      getHeader: (name: string) => headers[name],
      getRawBody: () => {
        seen.readBody = true;
        return Promise.resolve(body);
      },
    },
    response: {
      error(status: number, message?: string) {
        seen.status = status;
        seen.message = message;
      },
    },
  } as unknown as Pdk;
  await access(kong, compile(config));
  return seen;
}

const config = (allowed_payload_size: number, size_unit: 'bytes' | 'kilobytes' | 'megabytes' = 'bytes', require_content_length = false) => ({
  allowed_payload_size,
  size_unit,
  require_content_length,
});

describe('request-size-limiting', () => {
  it('decides from Content-Length without reading the body', async () => {
    assert.deepEqual(await run(config(10), { 'content-length': '10' }), { readBody: false });
    assert.deepEqual(await run(config(10), { 'content-length': '11' }), { status: 413, message: 'Request size limit exceeded', readBody: false });
  });

  it('uses binary units, megabytes by default in Kong', async () => {
    assert.equal((await run(config(1, 'kilobytes'), { 'content-length': '1024' })).status, undefined);
    assert.equal((await run(config(1, 'kilobytes'), { 'content-length': '1025' })).status, 413);
    assert.equal((await run(config(2, 'megabytes'), { 'content-length': String(2 * 1024 * 1024 + 1) })).status, 413);
  });

  it('417 when the client waits for 100-continue', async () => {
    assert.equal((await run(config(1), { 'content-length': '5', expect: ' 100-Continue' })).status, 417);
  });

  it('a chunked body is read and measured; no body at all is not read', async () => {
    assert.deepEqual(await run(config(4), { 'transfer-encoding': 'chunked' }, Buffer.from('12345')), {
      status: 413,
      message: 'Request size limit exceeded',
      readBody: true,
    });
    assert.deepEqual(await run(config(5), { 'transfer-encoding': 'chunked' }, Buffer.from('12345')), { readBody: true });
    assert.deepEqual(await run(config(0), {}), { readBody: false });
  });

  it('require_content_length answers 411 without one', async () => {
    assert.deepEqual(await run(config(10, 'bytes', true), { 'transfer-encoding': 'chunked' }), {
      status: 411,
      message: 'A valid Content-Length header is required',
      readBody: false,
    });
    assert.equal((await run(config(10, 'bytes', true), { 'content-length': '3' })).status, undefined);
  });
});
