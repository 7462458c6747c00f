import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runConfigCheck } from '../../src/cli/config-check.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'config');

async function check(file: string): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runConfigCheck(file, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out, err };
}

describe('sluice config check', () => {
  it('prints a one-line summary and exits 0 for a valid file', async () => {
    const file = join(FIXTURES, 'valid', '09-upstream-healthchecks.yml');
    const { code, out, err } = await check(file);
    assert.equal(code, 0);
    assert.deepEqual(err, []);
    assert.deepEqual(out, [`ok: ${file}: 1 services, 1 routes, 0 consumers, 0 plugins, 2 upstreams, 0 certificates`]);
  });

  it('prints every error with file:line:column and a count, and exits 1', async () => {
    const file = join(FIXTURES, 'invalid', 'broken-yaml.yml');
    const { code, out, err } = await check(file);
    assert.equal(code, 1);
    assert.deepEqual(out, []);
    assert.equal(err.length, 4);
    for (const line of err.slice(0, 3)) assert.ok(line.startsWith(`${file}:`), line);
    assert.match(err[0] ?? '', /:5:9: invalid YAML: /);
    assert.equal(err[3], '3 errors');
  });

  it('reports plugins that the node does not enable', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sluice-check-')), 'kong.yml');
    writeFileSync(file, '_format_version: "3.0"\nplugins:\n- name: not-a-real-plugin\n- name: another-fake\n');
    const { code, err } = await check(file);
    assert.equal(code, 1);
    assert.equal(err[0], `${file}:3:9: plugins[0].name (plugin "not-a-real-plugin"): plugin 'not-a-real-plugin' not enabled; add it to the 'plugins' configuration property`);
    assert.equal(err.at(-1), '2 errors');
  });

  it('says "1 error" for a single problem and handles a missing file', async () => {
    const { code, err } = await check('/nonexistent/kong.yml');
    assert.equal(code, 1);
    assert.match(err[0] ?? '', /^\/nonexistent\/kong\.yml:1:1: cannot read declarative config/);
    assert.equal(err[1], '1 error');
  });
});
