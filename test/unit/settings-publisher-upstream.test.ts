import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SettingsError } from '../../src/config/settings.ts';
import { confFile, settings } from '../helpers/settings.ts';

describe('internal_publisher_upstream and its timeout', () => {
  it('is unset by default, with a 5000 ms timeout', () => {
    const s = settings();
    assert.equal(s.internal_publisher_upstream, undefined);
    assert.equal(s.internal_publisher_upstream_timeout, 5000);
  });

  it('takes an http or https URL from the environment, a flag or the settings file', () => {
    assert.equal(settings({ SLUICE_INTERNAL_PUBLISHER_UPSTREAM: 'http://127.0.0.1:3000/moderate' }).internal_publisher_upstream, 'http://127.0.0.1:3000/moderate');
    assert.equal(settings({}, { internal_publisher_upstream: 'https://app.internal/hook?x=1' }).internal_publisher_upstream, 'https://app.internal/hook?x=1');
    const file = confFile('internal_publisher_upstream = http://app:8080/publish\ninternal_publisher_upstream_timeout = 250\n');
    const s = settings({}, {}, file);
    assert.equal(s.internal_publisher_upstream, 'http://app:8080/publish');
    assert.equal(s.internal_publisher_upstream_timeout, 250);
  });

  it('off turns it off, also over a value from a lower source', () => {
    const file = confFile('internal_publisher_upstream = http://app:8080/publish\n');
    assert.equal(settings({ SLUICE_INTERNAL_PUBLISHER_UPSTREAM: 'off' }, {}, file).internal_publisher_upstream, undefined);
    assert.equal(settings({}, { internal_publisher_upstream: 'OFF' }).internal_publisher_upstream, undefined);
  });

  it('a value that is not an http(s) URL is an error naming where it came from', () => {
    assert.throws(() => settings({ SLUICE_INTERNAL_PUBLISHER_UPSTREAM: 'app:8080/publish' }),
      (error: Error) => error instanceof SettingsError && error.message === 'SLUICE_INTERNAL_PUBLISHER_UPSTREAM: invalid URL "app:8080/publish": must be an http or https URL');
    assert.throws(() => settings({ SLUICE_INTERNAL_PUBLISHER_UPSTREAM: 'not a url' }), /^SettingsError: SLUICE_INTERNAL_PUBLISHER_UPSTREAM: invalid URL "not a url": not a valid URL$/);
    assert.throws(() => settings({}, { internal_publisher_upstream: 'ftp://app/hook' }), /^SettingsError: --internal-publisher-upstream: invalid URL "ftp:\/\/app\/hook": must be an http or https URL$/);
    const file = confFile('# hooks\ninternal_publisher_upstream = /publish\n');
    assert.throws(() => settings({}, {}, file), /sluice\.conf:2: internal_publisher_upstream: invalid URL "\/publish": not a valid URL$/);
  });

  it('credentials in the URL are refused without echoing them', () => {
    assert.throws(() => settings({ SLUICE_INTERNAL_PUBLISHER_UPSTREAM: 'http://user:s3cret@app/hook' }), (error: Error) => {
      assert.equal(error.message, 'SLUICE_INTERNAL_PUBLISHER_UPSTREAM: invalid URL: credentials in the URL are not supported (send them as headers upstream)');
      return true;
    });
  });

  it('the timeout is whole milliseconds from 1 to 600000', () => {
    assert.equal(settings({ SLUICE_INTERNAL_PUBLISHER_UPSTREAM_TIMEOUT: '150ms' }).internal_publisher_upstream_timeout, 150);
    for (const bad of ['0', '600001', '1.5', '2s', 'soon']) {
      assert.throws(() => settings({ SLUICE_INTERNAL_PUBLISHER_UPSTREAM_TIMEOUT: bad }),
        new RegExp(`^SettingsError: SLUICE_INTERNAL_PUBLISHER_UPSTREAM_TIMEOUT: invalid timeout "${bad.replace('.', '\\.')}" \\(milliseconds, 1 to 600000\\)$`), bad);
    }
  });
});
