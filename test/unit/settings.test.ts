import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { parseListen, parseSize, SETTINGS, SettingsError } from '../../src/config/settings.ts';
import { confFile, settings } from '../helpers/settings.ts';

describe('settings defaults', () => {
  it("uses Kong's defaults", () => {
    const s = settings();
    assert.deepEqual(s.proxy_listen, [{ host: '0.0.0.0', port: 8000 }]);
    assert.deepEqual(s.admin_listen, [{ host: '127.0.0.1', port: 8001 }]);
    assert.deepEqual(s.internal_listen, [{ host: '127.0.0.1', port: 8010 }]);
    assert.deepEqual(s.status_listen, []);
    assert.equal(s.declarative_config, undefined);
    assert.deepEqual(s.trusted_ips, []);
    assert.equal(s.real_ip_header, 'x-real-ip');
    assert.equal(s.real_ip_recursive, false);
    assert.equal(s.log_level, 'info');
    assert.equal(s.client_max_body_size, 0);
    assert.equal(s.max_header_size, 16 * 1024);
    assert.equal(s.drain_timeout, 30);
    assert.deepEqual(s.plugins, ['bundled']);
    assert.equal(s.engine, 'memory');
    assert.deepEqual(s.internal_allow, ['127.0.0.1/32', '::1/128']);
    assert.equal(s.internal_token, undefined);
    assert.equal(s.workers, 1);
  });

  it('describes every setting once with its env var and flag', () => {
    const names = SETTINGS.map((s) => s.name);
    assert.equal(new Set(names).size, names.length);
    const listen = SETTINGS.find((s) => s.name === 'proxy_listen');
    assert.deepEqual([listen?.env, listen?.flag, listen?.default], ['SLUICE_PROXY_LISTEN', '--proxy-listen', '0.0.0.0:8000']);
    for (const s of SETTINGS) assert.ok(s.description.length > 10, s.name);
  });
});

describe('settings precedence', () => {
  const file = confFile(`# sluice.conf
proxy_listen = 127.0.0.1:9000   # trailing comment
admin_listen = 127.0.0.1:9001
log_level = debug
drain_timeout = 5

internal_token = abc\\#def
`);

  it('file over defaults', () => {
    const s = settings({}, {}, file);
    assert.deepEqual(s.proxy_listen, [{ host: '127.0.0.1', port: 9000 }]);
    assert.equal(s.log_level, 'debug');
    assert.equal(s.drain_timeout, 5);
    assert.equal(s.internal_token, 'abc#def');
  });

  it('env over file, flags over env', () => {
    const env = { SLUICE_PROXY_LISTEN: '127.0.0.1:9100', SLUICE_ADMIN_LISTEN: '127.0.0.1:9101', SLUICE_LOG_LEVEL: 'warn' };
    const s = settings(env, { proxy_listen: '127.0.0.1:9200' }, file);
    assert.deepEqual(s.proxy_listen, [{ host: '127.0.0.1', port: 9200 }], 'flag wins');
    assert.deepEqual(s.admin_listen, [{ host: '127.0.0.1', port: 9101 }], 'env beats file');
    assert.equal(s.log_level, 'warn');
    assert.equal(s.drain_timeout, 5, 'file beats default');
  });

  it('ignores empty values so a blank flag or env var does not clear a setting', () => {
    assert.equal(settings({ SLUICE_LOG_LEVEL: '' }, { log_level: '' }, file).log_level, 'debug');
  });
});

describe('listen addresses', () => {
  it('parses lists, IPv6, flags, port 0 and off', () => {
    assert.deepEqual(parseListen('0.0.0.0:8000, 0.0.0.0:8443 ssl http2'), [
      { host: '0.0.0.0', port: 8000 },
      { host: '0.0.0.0', port: 8443, ssl: true, http2: true },
    ]);
    assert.deepEqual(parseListen('[::1]:8001'), [{ host: '::1', port: 8001 }]);
    assert.deepEqual(parseListen('[::]:0 ssl'), [{ host: '::', port: 0, ssl: true }]);
    assert.deepEqual(parseListen('localhost:0'), [{ host: 'localhost', port: 0 }]);
    assert.deepEqual(parseListen('off'), []);
    assert.deepEqual(settings({ SLUICE_INTERNAL_LISTEN: 'off' }).internal_listen, []);
  });

  it('names the source of a bad value', () => {
    assert.throws(() => settings({ SLUICE_PROXY_LISTEN: 'abc' }), (e: unknown) => {
      assert.ok(e instanceof SettingsError);
      assert.match(e.message, /^SLUICE_PROXY_LISTEN: invalid listen address "abc"/);
      return true;
    });
    assert.throws(() => settings({}, { admin_listen: '127.0.0.1:70000' }), /^SettingsError: --admin-listen: invalid listen address "127.0.0.1:70000": port must be 0..65535/);
    assert.throws(() => settings({}, { proxy_listen: '[::1:80' }), /--proxy-listen: invalid listen address/);
    assert.throws(() => settings({}, { proxy_listen: '[127.0.0.1]:80' }), /not an IPv6 address/);
    assert.throws(() => settings({}, { proxy_listen: '0.0.0.0:80 reuseport' }), /invalid listen flag "reuseport"/);
    const file = confFile('log_level = info\nstatus_listen = nope\n');
    assert.throws(() => settings({}, {}, file), new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: status_listen: invalid listen address "nope"`));
  });
});

describe('http2 settings', () => {
  it('defaults to 128 streams, a 32k header list and no connection limit', () => {
    const s = settings();
    assert.deepEqual([s.http2_max_concurrent_streams, s.http2_max_header_size, s.http2_max_connections], [128, 32 * 1024, 0]);
  });

  it('reads them from the environment and flags', () => {
    const s = settings({ SLUICE_HTTP2_MAX_CONCURRENT_STREAMS: '500', SLUICE_HTTP2_MAX_HEADER_SIZE: '64k' }, { http2_max_connections: '1000' });
    assert.deepEqual([s.http2_max_concurrent_streams, s.http2_max_header_size, s.http2_max_connections], [500, 64 * 1024, 1000]);
  });

  it('refuses values h2 cannot announce, naming where they came from', () => {
    assert.throws(() => settings({ SLUICE_HTTP2_MAX_CONCURRENT_STREAMS: '0' }), /SLUICE_HTTP2_MAX_CONCURRENT_STREAMS: invalid number "0" \(a whole number from 1 to 2147483647\)/);
    assert.throws(() => settings({}, { http2_max_concurrent_streams: 'many' }), /--http2-max-concurrent-streams: invalid number "many"/);
    assert.throws(() => settings({ SLUICE_HTTP2_MAX_HEADER_SIZE: '100' }), /SLUICE_HTTP2_MAX_HEADER_SIZE: invalid size "100" \(from 1k to 4g - 1\)/);
    assert.throws(() => settings({ SLUICE_HTTP2_MAX_HEADER_SIZE: '16q' }), /SLUICE_HTTP2_MAX_HEADER_SIZE: invalid size "16q"/);
    assert.throws(() => settings({ SLUICE_HTTP2_MAX_CONNECTIONS: '-1' }), /SLUICE_HTTP2_MAX_CONNECTIONS: invalid number "-1"/);
  });

  it('accepts the ssl and http2 listen flags together or alone', () => {
    assert.deepEqual(settings({}, { proxy_listen: '0.0.0.0:8443 http2 ssl, 127.0.0.1:8080 http2' }).proxy_listen, [
      { host: '0.0.0.0', port: 8443, http2: true, ssl: true },
      { host: '127.0.0.1', port: 8080, http2: true },
    ]);
  });
});

describe('other settings', () => {
  it('validates trusted IPs and CIDRs, v4 and v6', () => {
    assert.deepEqual(settings({ SLUICE_TRUSTED_IPS: '0.0.0.0/0,::/0' }).trusted_ips, ['0.0.0.0/0', '::/0']);
    assert.deepEqual(settings({}, { trusted_ips: '10.0.0.1, 192.168.0.0/16, fd00::/8' }).trusted_ips, ['10.0.0.1', '192.168.0.0/16', 'fd00::/8']);
    assert.throws(() => settings({}, { trusted_ips: '10.0.0.0/33' }), /--trusted-ips: invalid CIDR "10.0.0.0\/33"/);
    assert.throws(() => settings({}, { trusted_ips: 'example.com' }), /invalid IP or CIDR "example.com"/);
    assert.throws(() => settings({}, { internal_allow: '::1/129' }), /prefix must be 0..128/);
  });

  it('parses nginx sizes and booleans', () => {
    assert.equal(parseSize('0'), 0);
    assert.equal(parseSize('512'), 512);
    assert.equal(parseSize('8k'), 8192);
    assert.equal(parseSize('10M'), 10 * 1024 * 1024);
    assert.equal(parseSize('1g'), 1024 ** 3);
    assert.throws(() => settings({ SLUICE_CLIENT_MAX_BODY_SIZE: '10mb' }), /SLUICE_CLIENT_MAX_BODY_SIZE: invalid size "10mb"/);
    assert.equal(settings({ SLUICE_REAL_IP_RECURSIVE: 'on' }).real_ip_recursive, true);
    assert.throws(() => settings({ SLUICE_REAL_IP_RECURSIVE: 'maybe' }), /invalid boolean "maybe"/);
  });

  it('rejects proxy_protocol, bad log levels and a redis engine without a url', () => {
    assert.throws(() => settings({}, { real_ip_header: 'proxy_protocol' }), /--real-ip-header: real_ip_header "proxy_protocol" is not supported/);
    assert.equal(settings({}, { real_ip_header: 'X-Forwarded-For' }).real_ip_header, 'x-forwarded-for');
    assert.throws(() => settings({ SLUICE_LOG_LEVEL: 'verbose' }), /SLUICE_LOG_LEVEL: invalid log level "verbose"/);
    assert.equal(settings({ SLUICE_LOG_LEVEL: 'crit' }).log_level, 'crit');
    assert.throws(() => settings({ SLUICE_ENGINE: 'redis' }), /SLUICE_ENGINE: engine 'redis' needs redis_url/);
    const redis = settings({ SLUICE_ENGINE: 'redis', SLUICE_REDIS_URL: 'redis://localhost:6379/0' });
    assert.deepEqual([redis.engine, redis.redis_url], ['redis', 'redis://localhost:6379/0']);
    assert.throws(() => settings({ SLUICE_REDIS_URL: 'http://x' }), /must start with redis:\/\/ or rediss:\/\//);
  });

  it('takes a worker count or auto, and names the source of a bad one', () => {
    assert.equal(settings({ SLUICE_WORKERS: '4' }).workers, 4);
    assert.equal(settings({}, { workers: 'auto' }).workers, Math.min(64, availableParallelism()));
    assert.equal(settings({}, {}, confFile('workers = 2\n')).workers, 2);
    for (const bad of ['0', '-1', '1.5', 'many', '65']) {
      assert.throws(() => settings({ SLUICE_WORKERS: bad }), new RegExp(`SLUICE_WORKERS: invalid workers "${bad.replace('.', '\\.')}" \\(a number from 1 to 64, or auto\\)`));
    }
    assert.throws(() => settings({}, { workers: 'x' }), /--workers: invalid workers "x"/);
  });

  it('parses plugin lists and reports unknown file keys with their line', () => {
    assert.deepEqual(settings({}, { plugins: 'bundled, my-plugin' }).plugins, ['bundled', 'my-plugin']);
    assert.deepEqual(settings({}, { plugins: 'off' }).plugins, []);
    const file = confFile('proxy_listen = 127.0.0.1:1\nproxy_lisen = 127.0.0.1:2\n');
    assert.throws(() => settings({}, {}, file), /sluice\.conf:2: unknown setting 'proxy_lisen'/);
    assert.throws(() => settings({}, {}, confFile('just words\n')), /sluice\.conf:1: expected 'key = value'/);
    assert.throws(() => settings({}, {}, '/nonexistent/sluice.conf'), /cannot read settings file/);
  });
});
