import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startGateway, useEchoGateway } from '../helpers/gateway.ts';

const config = (upstream: string) => `
_format_version: "3.0"
services:
  - name: echo
    url: ${upstream}
    routes:
      - name: default
        paths: [/default]
        plugins: [{ name: bot-detection }]
      - name: custom
        paths: [/custom]
        plugins: [{ name: bot-detection, config: { allow: ['Googlebot'], deny: ['(?i)^curl/'] } }]
`;

describe('bot-detection plugin', () => {
  const ctx = useEchoGateway(config);

  async function get(path: string, userAgent?: string) {
    const res = await request(`${ctx.gw.proxyUrl}${path}`, { headers: userAgent === undefined ? {} : { 'user-agent': userAgent } });
    const text = await res.body.text();
    return { status: res.statusCode, text };
  }

  test("crawlers get Kong's 403 Forbidden", async () => {
    const res = await get('/default', 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)');
    assert.equal(res.status, 403);
    assert.equal((JSON.parse(res.text) as { message: string }).message, 'Forbidden');
    assert.equal((await get('/default', 'Scrapy/2.11.0 (+https://scrapy.org)')).status, 403);
  });

  test('browsers, curl and clients without a User-Agent pass', async () => {
    assert.equal((await get('/default', 'curl/8.5.0')).status, 200);
    assert.equal((await get('/default', 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0')).status, 200);
    assert.equal((await get('/default')).status, 200);
  });

  test('allow lets a listed bot through; deny refuses extra agents', async () => {
    assert.equal((await get('/custom', 'Mozilla/5.0 (compatible; Googlebot/2.1)')).status, 200);
    assert.equal((await get('/custom', 'curl/8.5.0')).status, 403);
    assert.equal((await get('/custom', 'bingbot/2.0')).status, 403);
  });

  test('a consumer-scoped instance is refused (Kong: no_consumer)', async () => {
    await assert.rejects(
      startGateway(`
_format_version: "3.0"
consumers:
  - username: alice
    plugins: [{ name: bot-detection }]
`),
      /cannot be applied to a consumer/,
    );
  });
});
