import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { runCli } from '../helpers/cli.ts';

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** No URL from the machine's environment leaks into these runs. */
const CLEAN = { SLUICE_ADMIN_URL: '', SLUICE_INTERNAL_URL: '', SLUICE_CONF: '' };

describe('operator commands: unreachable listeners and bad arguments', () => {
  test('an unreachable listener is one clear line and exit 1, with the URL from a flag or the settings', async () => {
    const port = await closedPort();
    const cases: [string[], Record<string, string>, string][] = [
      [['status', '--admin-url', `http://127.0.0.1:${port}/`], {}, `admin API at http://127.0.0.1:${port}`],
      [['channels'], { SLUICE_ADMIN_LISTEN: `0.0.0.0:${port}` }, `admin API at http://127.0.0.1:${port}`],
      [['publish', 'c', '--data', 'x'], { SLUICE_INTERNAL_LISTEN: `127.0.0.1:${port}` }, `internal listener at http://127.0.0.1:${port}`],
    ];
    for (const [args, env, where] of cases) {
      const r = await runCli(args, { ...CLEAN, ...env });
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stderr, `sluice: cannot reach the ${where}: connect ECONNREFUSED\n`, args.join(' '));
      assert.equal(r.stdout, '');
    }
  });

  test('a listener turned off, a bad URL or page size, missing or unknown arguments: exit 1 with the reason', async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['status'], { SLUICE_ADMIN_LISTEN: 'off' }, /^sluice: the admin_listen setting is off: pass --admin-url\n$/],
      [['status', '--admin-url', 'localhost:8001'], {}, /^sluice: invalid admin API URL 'localhost:8001': expected http\(s\):\/\/host:port\n$/],
      [['channels', '--page-size', '1001', '--admin-url', 'http://127.0.0.1:1'], {}, /^sluice: --page-size must be an integer between 1 and 1000, not '1001'\n$/],
      [['publish'], {}, /error: missing required argument 'channel'/],
      [['status', '--bogus'], {}, /error: unknown option '--bogus'/],
    ];
    for (const [args, env, stderr] of cases) {
      const r = await runCli(args, { ...CLEAN, ...env });
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, stderr, args.join(' '));
    }
  });
});
