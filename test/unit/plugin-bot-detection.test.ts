import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { access, compile } from '../../src/plugins/bundled/bot-detection/handler.ts';
import type { Pdk } from '../../src/plugins/pdk/types.ts';

function verdict(conf: ReturnType<typeof compile>, agent: string | string[] | undefined): { status?: number; message?: string } {
  const seen: { status?: number; message?: string } = {};
  const kong = {
    request: { getHeaders: () => (agent === undefined ? {} : { 'user-agent': agent }) },
    response: {
      error(status: number, message?: string) {
        seen.status = status;
        seen.message = message;
      },
    },
  } as unknown as Pdk;
  access(kong, conf);
  return seen;
}

const BOTS = [
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
  'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
  'Twitterbot/1.0',
  'Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)',
  'Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)',
  'Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)',
  'Scrapy/2.11.0 (+https://scrapy.org)',
  'Python-urllib/3.11',
  'Apache-HttpClient/4.5.13 (Java/17.0.2)',
  'SomeCrawler 1.0',
  'my-little-spider',
];
const HUMANS_AND_TOOLS = [
  'curl/8.5.0',
  'Wget/1.21.4',
  'python-requests/2.31.0',
  'PostmanRuntime/7.36.0',
  'okhttp/4.12.0',
  'Go-http-client/1.1',
  'undici',
  'node-fetch/1.0',
  'axios/1.6.2',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  'Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36',
];

describe('bot-detection', () => {
  const conf = compile({ allow: [], deny: [] });

  it("refuses Kong's bots with 403 Forbidden", () => {
    for (const agent of BOTS) assert.deepEqual(verdict(conf, agent), { status: 403, message: 'Forbidden' }, agent);
  });

  it('lets browsers and HTTP tools through (curl is not a bot in Kong either)', () => {
    for (const agent of HUMANS_AND_TOOLS) assert.deepEqual(verdict(conf, agent), {}, agent);
    assert.deepEqual(verdict(conf, undefined), {});
  });

  it('allow beats deny and the bot list; deny adds agents; PCRE (?i) is understood', () => {
    const custom = compile({ allow: ['Googlebot'], deny: ['(?i)^curl/', 'Googlebot'] });
    assert.deepEqual(verdict(custom, 'Mozilla/5.0 (compatible; Googlebot/2.1)'), {});
    assert.deepEqual(verdict(custom, 'CURL/8.0'), { status: 403, message: 'Forbidden' });
    assert.deepEqual(verdict(custom, 'bingbot/2.0'), { status: 403, message: 'Forbidden' });
    // The verdict cache answers the same on a repeat.
    assert.deepEqual(verdict(custom, '  CURL/8.0  '), { status: 403, message: 'Forbidden' });
  });

  it('several User-Agent headers are a 400; a bad regex fails compilation', () => {
    assert.deepEqual(verdict(conf, ['a', 'b']), { status: 400, message: 'Only one User-Agent header allowed' });
    assert.throws(() => compile({ allow: ['(unclosed'], deny: [] }), /'\(unclosed' is not a valid regex/);
  });
});
