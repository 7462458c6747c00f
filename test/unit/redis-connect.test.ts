import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveSettings } from '../../src/config/settings.ts';
import { describeRedis, parseRedisUrl, redisClientOptions, redisClusterOptions, RedisUrlError } from '../../src/redis/connect.ts';
import { keySlot } from '../../src/redis/slot.ts';

describe('redis URLs', () => {
  it('reads host, port, TLS, credentials and database', () => {
    assert.deepEqual(parseRedisUrl('redis://127.0.0.1'), { host: '127.0.0.1', port: 6379, tls: false, database: 0 });
    assert.deepEqual(parseRedisUrl('rediss://app:s%40cret@cache.internal:6380/2'), {
      host: 'cache.internal', port: 6380, tls: true, username: 'app', password: 's@cret', database: 2,
    });
    assert.deepEqual(parseRedisUrl('redis://:only-password@[::1]:7000/'), { host: '::1', port: 7000, tls: false, password: 'only-password', database: 0 });
  });

  it('refuses what it cannot honour, naming the reason and never the password', () => {
    const bad = (url: string, why: RegExp) => assert.throws(() => parseRedisUrl(url), (e: unknown) => e instanceof RedisUrlError && why.test(e.message));
    bad('not a url', /invalid redis URL "not a url"/);
    bad('http://cache:6379', /must start with redis:\/\/ or rediss:\/\//);
    bad('redis://u:hunter2@cache/db1', /database must be a number, got "db1"/);
    bad('redis://cache:6379/0?timeout=1', /query strings and fragments are not supported/);
    assert.throws(() => parseRedisUrl('redis://u:hunter2@cache/x'), (e: unknown) => e instanceof Error && !e.message.includes('hunter2'));
  });

  it('reads a Redis Cluster URL: seed nodes, credentials and TLS for all, database 0 only', () => {
    assert.deepEqual(parseRedisUrl('redis+cluster://127.0.0.1:7000,127.0.0.1:7001'), {
      host: '127.0.0.1', port: 7000, tls: false, database: 0, cluster: [{ host: '127.0.0.1', port: 7000 }, { host: '127.0.0.1', port: 7001 }],
    });
    assert.deepEqual(parseRedisUrl('rediss+cluster://app:s%40cret@a:1,[::1]/0'), {
      host: 'a', port: 1, tls: true, username: 'app', password: 's@cret', database: 0, cluster: [{ host: 'a', port: 1 }, { host: '::1', port: 6379 }],
    });
    assert.equal(describeRedis(parseRedisUrl('rediss+cluster://app:pw@a:1,b:2')), 'rediss+cluster://app@a:1,b:2');
    const bad = (url: string, why: RegExp) => assert.throws(() => parseRedisUrl(url), (e: unknown) => e instanceof RedisUrlError && why.test(e.message) && !e.message.includes('hunter2'));
    bad('redis+cluster://u:hunter2@a:1/2', /a Redis Cluster has only database 0/);
    bad('redis+cluster://u:hunter2@a:1,b:x', /node "b:x": not a valid host:port/);
    bad('redis+cluster://a:1,', /empty node address/);
    bad('redis+cluster://', /no host/);
    bad('redis+cluster://u:hunter2@a:1?x=1', /query strings and fragments are not supported/);
  });

  it('computes Redis Cluster key slots, hash tags included', () => {
    assert.equal(keySlot('foo'), 12182);
    assert.equal(keySlot('123456789'), 12739);
    assert.equal(keySlot('{user1000}.following'), keySlot('user1000'));
    assert.equal(keySlot('foo{}{bar}'), 8363, 'an empty tag hashes the whole key');
  });

  it('describes a target without its password', () => {
    assert.equal(describeRedis(parseRedisUrl('rediss://app:pw@cache:6380/3')), 'rediss://app@cache:6380/3');
    assert.equal(describeRedis(parseRedisUrl('redis://[::1]')), 'redis://[::1]:6379/0');
  });

  it('gives node-redis options that fail fast offline and reconnect forever', () => {
    const o = redisClientOptions(parseRedisUrl('rediss://app:pw@cache:6380/3'));
    assert.equal(o.disableOfflineQueue, true);
    assert.deepEqual([o.username, o.password, o.database], ['app', 'pw', 3]);
    const socket = o.socket as { host: string; port: number; tls: boolean; reconnectStrategy: (n: number) => number };
    assert.deepEqual([socket.host, socket.port, socket.tls], ['cache', 6380, true]);
    assert.equal(socket.reconnectStrategy(0), 50);
    assert.equal(socket.reconnectStrategy(1000), 1000);
  });
});

describe('redis settings', () => {
  const settings = (env: Record<string, string>) => resolveSettings({ env, flags: {} });
  it('takes the namespace and validates the URL where it is set', () => {
    assert.equal(settings({}).redis_namespace, 'sluice:');
    const s = settings({ SLUICE_ENGINE: 'redis', SLUICE_REDIS_URL: 'rediss://u:p@cache:6380/1', SLUICE_REDIS_NAMESPACE: 'app1:' });
    assert.deepEqual([s.engine, s.redis_url, s.redis_namespace], ['redis', 'rediss://u:p@cache:6380/1', 'app1:']);
    assert.throws(() => settings({ SLUICE_REDIS_URL: 'redis://cache/abc' }), /SLUICE_REDIS_URL: invalid redis URL "redis:\/\/cache\/abc": database must be a number/);
    assert.throws(() => settings({ SLUICE_REDIS_NAMESPACE: 'has space' }), /SLUICE_REDIS_NAMESPACE: invalid redis_namespace "has space"/);
    assert.throws(() => settings({ SLUICE_REDIS_NAMESPACE: 'app{1}:' }), /invalid redis_namespace "app\{1\}:" .*no braces/);
    assert.equal(settings({ SLUICE_ENGINE: 'redis', SLUICE_REDIS_URL: 'redis+cluster://a:7000,b:7000' }).redis_url, 'redis+cluster://a:7000,b:7000');
  });
});

describe('redis engine bounds: redis_command_timeout, redis_replica_wait', () => {
  const settings = (env: Record<string, string>, flags: Record<string, string> = {}, file?: string) =>
    resolveSettings({ env, flags, ...(file !== undefined ? { file } : {}) });

  it('default to the engine defaults (3000 ms per call, 1000 ms for a replica)', () => {
    const s = settings({});
    assert.deepEqual([s.redis_command_timeout, s.redis_replica_wait], [3000, 1000]);
  });

  it('read milliseconds from the file, the environment and flags (flags win); 0 turns the replica wait off', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sluice-settings-')), 'sluice.conf');
    writeFileSync(file, 'redis_command_timeout = 750\nredis_replica_wait = 0\n');
    const fromFile = settings({}, {}, file);
    assert.deepEqual([fromFile.redis_command_timeout, fromFile.redis_replica_wait], [750, 0]);
    const fromEnv = settings({ SLUICE_REDIS_COMMAND_TIMEOUT: '1500ms', SLUICE_REDIS_REPLICA_WAIT: '250' }, {}, file);
    assert.deepEqual([fromEnv.redis_command_timeout, fromEnv.redis_replica_wait], [1500, 250]);
    const fromFlag = settings({ SLUICE_REDIS_COMMAND_TIMEOUT: '1500' }, { redis_command_timeout: '100' });
    assert.equal(fromFlag.redis_command_timeout, 100);
  });

  it('refuse what is not milliseconds in range, naming where the value came from', () => {
    assert.throws(() => settings({ SLUICE_REDIS_COMMAND_TIMEOUT: '0' }), { message: 'SLUICE_REDIS_COMMAND_TIMEOUT: invalid redis_command_timeout "0" (milliseconds, 1 to 600000)' });
    assert.throws(() => settings({ SLUICE_REDIS_COMMAND_TIMEOUT: '3s' }), /SLUICE_REDIS_COMMAND_TIMEOUT: invalid redis_command_timeout "3s"/);
    assert.throws(() => settings({}, { redis_command_timeout: '600001' }), /--redis-command-timeout: invalid redis_command_timeout "600001" \(milliseconds, 1 to 600000\)/);
    assert.throws(() => settings({ SLUICE_REDIS_REPLICA_WAIT: '-1' }), { message: 'SLUICE_REDIS_REPLICA_WAIT: invalid redis_replica_wait "-1" (milliseconds, 0 to 600000)' });
    const file = join(mkdtempSync(join(tmpdir(), 'sluice-settings-')), 'sluice.conf');
    writeFileSync(file, '# bounds\nredis_replica_wait = soon\n');
    assert.throws(() => settings({}, {}, file), /sluice\.conf:2: redis_replica_wait: invalid redis_replica_wait "soon"/);
  });
});

describe('redis cluster client options', () => {
  it('seed every node with the same credentials and TLS, each node verified under its own name unless one is fixed', () => {
    const target = parseRedisUrl('rediss+cluster://app:pw@a:7000,b:7001');
    const o = redisClusterOptions(target, { maxCommandRedirections: 3 });
    assert.deepEqual(o.rootNodes.map((n) => n.socket), [{ host: 'a', port: 7000 }, { host: 'b', port: 7001 }]);
    assert.equal(o.maxCommandRedirections, 3);
    assert.deepEqual([o.defaults?.username, o.defaults?.password, o.defaults?.disableOfflineQueue], ['app', 'pw', true]);
    const socket = o.defaults?.socket as Record<string, unknown>;
    assert.equal(socket.tls, true);
    assert.equal(socket.servername, undefined);
    assert.equal(socket.host, undefined);
    const fixed = redisClusterOptions(target, { serverName: 'redis.internal', rejectUnauthorized: false }).defaults?.socket as Record<string, unknown>;
    assert.deepEqual([fixed.servername, fixed.rejectUnauthorized], ['redis.internal', false]);
    assert.equal((redisClusterOptions(parseRedisUrl('redis+cluster://a:1')).defaults?.socket as Record<string, unknown>).tls, undefined);
  });
});
