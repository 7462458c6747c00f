import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SETTINGS } from '../../src/config/settings.ts';
import { GATEWAY_ERRORS } from '../../src/gateway/errors.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

test('the README documents every node setting, with its variable and flag', () => {
  for (const spec of SETTINGS) {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${spec.name}\``));
    assert.ok(row, `README has a row for ${spec.name}`);
    assert.ok(row.includes(spec.env), `${spec.name} row names ${spec.env}`);
    assert.ok(row.includes(spec.flag), `${spec.name} row names ${spec.flag}`);
  }
});

test('the README error table lists every error code', () => {
  for (const code of Object.keys(GATEWAY_ERRORS)) {
    if (code === 'NOT_FOUND' || code === 'SHUTTING_DOWN') continue; // listener-internal answers
    assert.ok(readme.includes(`\`${code}\``), `README mentions ${code}`);
  }
});

test('the README gives the two set-up commands CI and users run', () => {
  assert.ok(readme.includes('npm ci && npm start'));
  assert.ok(readme.includes('npm test'));
});
