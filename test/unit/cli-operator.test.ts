import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeChannelOffset, encodeChannelOffset, parseChannelQuery } from '../../src/admin/channel-paging.ts';
import { AdminError } from '../../src/admin/errors.ts';
import { CliError, errorMessage } from '../../src/cli/api-client.ts';
import { formatChannelTable, parsePageSize } from '../../src/cli/channels.ts';
import { adminEndpoint, internalEndpoint, listenUrl } from '../../src/cli/endpoints.ts';
import { formatStatus } from '../../src/cli/status.ts';

describe('operator CLI and channel paging pieces', () => {
  it('offsets round-trip any cursor and refuse what is not ours', () => {
    for (const cursor of ['', 'chat:1', 'a/b c', 'ünï', 'x'.repeat(2000)]) assert.equal(decodeChannelOffset(encodeChannelOffset(cursor)), cursor);
    const entityOffset = Buffer.from(JSON.stringify([100])).toString('base64url');
    for (const bad of ['', '!!', 'WyJjaGFubmVscyIsImNoYXQ6YiJd=', Buffer.from('chat:1').toString('base64url'), entityOffset]) {
      assert.throws(() => decodeChannelOffset(bad), (e: unknown) => e instanceof AdminError && e.code === 'INVALID_OFFSET', bad);
    }
    assert.deepEqual(parseChannelQuery(new URLSearchParams('')), { prefix: '', size: 100, cursor: null, sizeGiven: false });
    assert.deepEqual(parseChannelQuery(new URLSearchParams(`size=1000&prefix=a&offset=${encodeChannelOffset('a:1')}`)), { prefix: 'a', size: 1000, cursor: 'a:1', sizeGiven: true });
  });

  it('the channel table aligns columns, escapes control characters and reads never / -', () => {
    const lines = formatChannelTable([
      { id: 'a', messages: 12, subscribers: 3, last_message_id: '1795718443:2', requested: 5 },
      { id: 'bad\nid', messages: 0, subscribers: 0, last_message_id: null, requested: -1 },
    ]);
    assert.deepEqual(lines, [
      'CHANNEL      MESSAGES  SUBSCRIBERS  LAST MESSAGE ID  LAST REQUESTED',
      'a                  12            3  1795718443:2     5s ago',
      'bad\\u000aid         0            0  -                never',
    ]);
  });

  it('--page-size is an integer 1..1000', () => {
    assert.equal(parsePageSize(undefined), 1000);
    assert.equal(parsePageSize('7'), 7);
    for (const bad of ['0', '1001', '1.5', '-1', 'x', '']) assert.throws(() => parsePageSize(bad), CliError, bad);
  });

  it('listen addresses become loopback URLs; flags and the environment win over the settings', () => {
    assert.equal(listenUrl({ host: '0.0.0.0', port: 8001 }), 'http://127.0.0.1:8001');
    assert.equal(listenUrl({ host: '::', port: 8001 }), 'http://[::1]:8001');
    assert.equal(listenUrl({ host: '10.0.0.5', port: 8443, ssl: true }), 'https://10.0.0.5:8443');
    assert.deepEqual(adminEndpoint({}, {}), { name: 'admin API', url: 'http://127.0.0.1:8001' });
    assert.equal(adminEndpoint({}, { SLUICE_ADMIN_LISTEN: '[::1]:9001' }).url, 'http://[::1]:9001');
    assert.equal(adminEndpoint({ adminUrl: 'http://h:1/' }, { SLUICE_ADMIN_URL: 'http://env:2' }).url, 'http://h:1');
    assert.deepEqual(internalEndpoint({}, { SLUICE_INTERNAL_TOKEN: 't' }), { name: 'internal listener', url: 'http://127.0.0.1:8010', headers: { authorization: 'Bearer t' } });
    assert.throws(() => adminEndpoint({}, { SLUICE_ADMIN_LISTEN: 'nonsense' }), (e: unknown) => e instanceof CliError && /SLUICE_ADMIN_LISTEN/.test(e.message));
  });

  it('error messages come from Kong\'s `message`, else the status text', () => {
    assert.equal(errorMessage({ status: 404, text: '{"message":"Not found"}' }), 'Not found');
    assert.equal(errorMessage({ status: 403, text: '' }), 'Forbidden');
    assert.equal(errorMessage({ status: 502, text: '<html>' }), 'Bad Gateway');
  });

  it('the status summary leaves out what the node does not send', () => {
    assert.deepEqual(formatStatus({ version: '1.0.0', hostname: 'h', node_id: 'n' }, { configuration_hash: 'abc' }), ['sluice 1.0.0 on h (node n)', 'configuration  abc']);
  });
});
