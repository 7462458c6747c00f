import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveSettings, SettingsError } from '../../src/config/settings.ts';
import { DEFAULT_ADMIN_MAX_BODY_SIZE } from '../../src/gateway/gateway.ts';

test('admin_max_body_size: 10m by default (the gateway\'s own default too), nginx sizes, errors name the source', () => {
  assert.equal(resolveSettings({ env: {}, flags: {} }).admin_max_body_size, 10 * 1024 * 1024);
  assert.equal(DEFAULT_ADMIN_MAX_BODY_SIZE, 10 * 1024 * 1024);
  assert.equal(resolveSettings({ env: { SLUICE_ADMIN_MAX_BODY_SIZE: '512k' }, flags: {} }).admin_max_body_size, 512 * 1024);
  assert.equal(resolveSettings({ env: {}, flags: { admin_max_body_size: '0' } }).admin_max_body_size, 0);
  assert.throws(
    () => resolveSettings({ env: { SLUICE_ADMIN_MAX_BODY_SIZE: 'huge' }, flags: {} }),
    (e: unknown) => e instanceof SettingsError && e.message.startsWith('SLUICE_ADMIN_MAX_BODY_SIZE: invalid size "huge"'),
  );
});
