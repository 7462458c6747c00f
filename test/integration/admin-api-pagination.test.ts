import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { admin, type AdminAnswer, type PageBody } from '../helpers/admin.ts';
import { useEchoGateway } from '../helpers/gateway.ts';

type Entity = Record<string, unknown> & { id: string; name: string };

const TAGS = ['red', 'green', 'blue'];
/** 250 services s000..s249, service i tagged with TAGS[i % 3] and, when even, `even`. */
const config = (url: string) =>
  `_format_version: "3.0"\nservices:\n${Array.from({ length: 250 }, (_, i) => {
    const tags = [TAGS[i % 3], ...(i % 2 === 0 ? ['even'] : [])];
    return `- name: s${String(i).padStart(3, '0')}\n  url: ${url}\n  tags: [${tags.join(', ')}]\n  routes: [{paths: [/s${i}]}]\n`;
  }).join('')}`;

describe('Admin API: pagination and tags', () => {
  const ctx = useEchoGateway(config);
  const get = <T = PageBody<Entity>>(path: string) => admin<T>(ctx.gw.adminUrl, path);

  /** Follows `next` from `path` to the end; every page's size and the names seen. */
  async function walk(path: string): Promise<{ pages: number[]; names: string[] }> {
    const [base, query = ''] = path.split('?');
    const asked = new URLSearchParams(query);
    const pages: number[] = [];
    const names: string[] = [];
    let next: string | null = path;
    while (next !== null) {
      const page: AdminAnswer<PageBody<Entity>> = await get(next);
      const { status, body } = page;
      assert.equal(status, 200, next);
      pages.push(body.data.length);
      names.push(...body.data.map((e) => e.name));
      if (body.next !== null) {
        // Kong's next: the same path, the new offset, then the size and tags asked for.
        const expected = new URLSearchParams({ offset: body.offset ?? '' });
        for (const key of ['size', 'tags']) if (asked.has(key)) expected.set(key, asked.get(key)!);
        assert.equal(body.next, `${base}?${expected.toString()}`);
      }
      next = body.next;
    }
    return { pages, names };
  }

  test('the default page is 100 entities; walking next visits each entity once, in order', async () => {
    const { pages, names } = await walk('/services');
    assert.deepEqual(pages, [100, 100, 50]);
    assert.deepEqual(names, Array.from({ length: 250 }, (_, i) => `s${String(i).padStart(3, '0')}`));
  });

  test('size sets the page length and is repeated in next', async () => {
    const first = await get('/services?size=7');
    assert.equal(first.body.data.length, 7);
    assert.match(first.body.next ?? '', /^\/services\?offset=[^&]+&size=7$/);
    const { pages } = await walk('/services?size=60');
    assert.deepEqual(pages, [60, 60, 60, 60, 10]);
    assert.equal((await get('/services?size=1000')).body.data.length, 250);
    assert.equal((await get('/routes?size=250')).body.next, null, 'an exact last page has no next');
  });

  test('a bad size is Kong\'s invalid-size error', async () => {
    for (const [size, message] of [
      ['0', 'size must be an integer between 1 and 1000'],
      ['1001', 'size must be an integer between 1 and 1000'],
      ['2.5', 'size must be an integer between 1 and 1000'],
      ['abc', 'size must be a number'],
      ['', 'size must be a number'],
    ]) {
      const { status, body } = await get<Record<string, unknown>>(`/services?size=${size}`);
      assert.equal(status, 400, size);
      assert.deepEqual(body, { code: 9, name: 'invalid size', message }, size);
    }
  });

  test('a bad offset is Kong\'s invalid-offset error', async () => {
    const notBase64 = await get<Record<string, unknown>>('/services?offset=%25%25%25');
    assert.equal(notBase64.status, 400);
    assert.deepEqual(notBase64.body, { code: 7, name: 'invalid offset', message: "'%%%' is not a valid offset: bad base64 encoding" });
    const forged = Buffer.from('{"x":1}').toString('base64');
    const bad = await get<Record<string, unknown>>(`/services?offset=${encodeURIComponent(forged)}`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 7);
    const past = (await get('/services?size=100')).body.offset!;
    assert.equal((await get(`/services?offset=${encodeURIComponent(past)}`)).body.data[0]!.name, 's100', 'a token works on its own');
  });

  test('tags a,b keeps entities with both; a/b with either; next keeps the filter', async () => {
    const both = await walk('/services?tags=red,even&size=10');
    assert.ok(both.names.length > 0);
    for (const name of both.names) {
      const i = Number(name.slice(1));
      assert.ok(i % 3 === 0 && i % 2 === 0, name);
    }
    assert.equal(both.names.length, Array.from({ length: 250 }, (_, i) => i).filter((i) => i % 6 === 0).length);
    const either = await walk('/services?tags=red/green');
    assert.equal(either.names.length, Array.from({ length: 250 }, (_, i) => i).filter((i) => i % 3 !== 2).length);
    assert.deepEqual((await get('/services?tags=nothing')).body, { data: [], next: null });
    assert.deepEqual((await get('/routes?tags=red')).body.data, [], 'routes carry no tags here');
  });

  test('mixing , and / in tags is Kong\'s invalid-options error', async () => {
    const { status, body } = await get<Record<string, unknown>>('/services?tags=a,b/c');
    assert.equal(status, 400);
    assert.equal(body.code, 11);
    assert.equal(body.name, 'invalid options');
    assert.deepEqual(body.fields, { tags: 'invalid filter syntax' });
  });

  test('nested lists paginate the same way', async () => {
    const page = await get('/services/s000/routes?size=1');
    assert.equal(page.body.data.length, 1);
    assert.equal(page.body.next, null);
  });
});
