import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-diff-'));
function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const OLD = `_format_version: "3.0"
services:
  - name: echo
    url: http://127.0.0.1:9009
    routes:
      - name: hello
        paths: [/hello]
      - name: legacy
        paths: [/old]
      - paths: [/unnamed]
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-old-key }]
plugins:
  - name: rate-limiting
    route: hello
    config: { minute: 5, policy: local }
channels:
  - name: chat
    match: "chat:*"
    message_buffer_length: 10
`;

// echo: port and retries change; legacy goes; billing comes; alice's key changes (a new
// credential); the route's rate limit changes; chat's buffer changes; the unnamed route stays.
const NEW = `_format_version: "3.0"
services:
  - name: echo
    url: http://127.0.0.1:9010
    retries: 2
    routes:
      - name: hello
        paths: [/hello]
      - paths: [/unnamed]
  - name: billing
    url: http://127.0.0.1:9011
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-new-key }]
plugins:
  - name: rate-limiting
    route: hello
    config: { minute: 50, policy: local }
channels:
  - name: chat
    match: "chat:*"
    message_buffer_length: 100
`;

describe('sluice config diff', () => {
  test('prints added, removed and changed entities by type and name, never credential values', async () => {
    const r = await runCli(['config', 'diff', write('old.yml', OLD), write('new.yml', NEW)]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.deepEqual(lines.filter((l) => !l.startsWith('keyauth_credentials') && !/^ {2}[+-] alice's/.test(l)), [
      'services',
      '  + billing',
      '  ~ echo: port, retries',
      'routes',
      '  - legacy',
      'plugins',
      '  ~ rate-limiting (route hello): config',
      'channels',
      '  ~ chat: message_buffer_length',
      '2 added, 2 removed, 3 changed',
    ]);
    const credentials = lines.slice(lines.indexOf('keyauth_credentials'), lines.indexOf('keyauth_credentials') + 3);
    assert.match(credentials[1] ?? '', /^ {2}[+-] alice's \(id [0-9a-f]{8}\)$/);
    assert.match(credentials[2] ?? '', /^ {2}[+-] alice's \(id [0-9a-f]{8}\)$/);
    assert.ok(!r.stdout.includes('alice-old-key') && !r.stdout.includes('alice-new-key'), 'secrets stay out of the output');
  });

  test('the same config twice: no differences', async () => {
    const file = write('same.yml', OLD);
    const r = await runCli(['config', 'diff', file, write('copy.yml', OLD)]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'no differences\n');
  });

  test('a file that does not load: every error with file:line:column, exit 1; a missing argument too', async () => {
    const bad = write('bad.yml', '_format_version: "3.0"\nservices:\n  - name: a\n    url: http://127.0.0.1:1\n    colour: blue\n');
    const r = await runCli(['config', 'diff', write('good.yml', OLD), bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.yml:5:\d+:.*colour/);
    assert.match(r.stderr, /^1 error$/m);
    assert.equal(r.stdout, '');
    const missing = await runCli(['config', 'diff', bad]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /missing required argument 'new\.yml'/);
  });
});
