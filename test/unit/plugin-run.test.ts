/**
 * The plugin runner's phases: synchronous handlers run without a promise (the runner answers
 * undefined, nothing to await) and asynchronous ones are awaited in order, with the same exits,
 * collection and failures either way.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import type { ChainPlugin, RouteChain } from '../../src/plugins/chain.ts';
import { definePlugin, type PluginHandler } from '../../src/plugins/contract.ts';
import type { RequestPdk } from '../../src/plugins/pdk/request-pdk.ts';
import type { RequestContext } from '../../src/gateway/context.ts';
import { GatewayError } from '../../src/gateway/errors.ts';
import { PluginFailure, PluginRun } from '../../src/gateway/plugin-run.ts';
import { silentLogger } from '../../src/observability/logger.ts';

type Step = (kong: RequestPdk, trail: string[]) => void | Promise<void>;

/** A plugin whose phases append to `trail` and then do `steps[phase]`. */
function plugin(name: string, priority: number, trail: string[], steps: Partial<Record<'rewrite' | 'access' | 'header_filter' | 'log', Step>>, global = false): ChainPlugin {
  const handler: Record<string, unknown> = { PRIORITY: priority, VERSION: '1.0.0' };
  for (const [phase, step] of Object.entries(steps)) {
    handler[phase] = (kong: RequestPdk) => {
      trail.push(`${name}:${phase}`);
      return step(kong, trail);
    };
  }
  const def = definePlugin({ name, schema: Type.Object({}), handler: handler as unknown as PluginHandler<unknown, unknown> });
  return {
    def,
    instance: { id: name, name, config: {}, protocols: ['http', 'https'], enabled: true, tags: [], ...(global ? {} : { route: 'r' }) },
    conf: {},
    onHttp: true,
    onHttps: true,
  };
}

function runFor(plugins: ChainPlugin[], rewrite: ChainPlugin[] = []) {
  const ctx = { id: 'req-1', scheme: 'http', shared: {} } as unknown as RequestContext;
  const chain: RouteChain = { empty: false, slots: plugins.map((p) => ({ def: p.def, general: p })), rewrite };
  const pdk = { phase: 'rewrite', plugin: '', context: ctx } as unknown as RequestPdk;
  return { ctx, run: new PluginRun(ctx, chain, pdk, silentLogger()) };
}

const exit = (status: number): Step => (kong) => {
  (kong.context as { exit?: unknown }).exit = { status, headers: {}, body: Buffer.alloc(0) };
};
const nothing: Step = () => undefined;
const later: Step = () => new Promise((resolve) => setImmediate(resolve));

describe('PluginRun', () => {
  it('all-synchronous access handlers run in order without a promise', () => {
    const trail: string[] = [];
    const { run } = runFor([plugin('a', 20, trail, { access: nothing }), plugin('b', 10, trail, { access: nothing })]);
    assert.equal(run.rewrite(), undefined);
    assert.equal(run.access(), undefined);
    assert.deepEqual(trail, ['a:access', 'b:access']);
    assert.equal(run.log(), undefined, 'no plugin has a log phase: nothing to await');
  });

  it('an asynchronous handler in the middle is awaited before the next one runs', async () => {
    const trail: string[] = [];
    const { run } = runFor([
      plugin('a', 30, trail, { access: nothing }),
      plugin('b', 20, trail, { access: async (_k, t) => (await later(_k, t), void t.push('b:done')) }),
      plugin('c', 10, trail, { access: nothing, header_filter: nothing }),
    ]);
    const pending = run.access();
    assert.ok(pending instanceof Promise);
    assert.deepEqual(trail, ['a:access', 'b:access'], 'c waits for b');
    await pending;
    assert.deepEqual(trail, ['a:access', 'b:access', 'b:done', 'c:access']);
    assert.equal(run.hasHeaderFilter, true, 'set once the chain is through');
  });

  it('an answer stops later access handlers (sync or after a promise) but they are still collected for the response phases', async () => {
    for (const first of [exit(401), (async (kong, t) => (await later(kong, t), exit(401)(kong, t))) as Step]) {
      const trail: string[] = [];
      const { ctx, run } = runFor([plugin('auth', 20, trail, { access: first }), plugin('cors', 10, trail, { access: nothing, header_filter: nothing, log: nothing })]);
      await run.access();
      assert.equal(ctx.exitedBy, 'auth');
      assert.deepEqual(trail, ['auth:access']);
      await run.headerFilter();
      await run.log();
      assert.deepEqual(trail, ['auth:access', 'cors:header_filter', 'cors:log']);
    }
  });

  it('rewrite: global plugins in order, an answer (sync or async) ends the phase', async () => {
    const trail: string[] = [];
    const { ctx, run } = runFor([], [plugin('g1', 30, trail, { rewrite: later }, true), plugin('g2', 20, trail, { rewrite: exit(403) }, true), plugin('g3', 10, trail, { rewrite: nothing }, true)]);
    await run.rewrite();
    assert.deepEqual(trail, ['g1:rewrite', 'g2:rewrite']);
    assert.equal(ctx.exitedBy, 'g2');
  });

  it('a handler that throws or rejects is a PluginFailure naming plugin and phase; a GatewayError keeps its code', async () => {
    const boom = new Error('boom');
    const cases: [Step, (e: unknown) => boolean][] = [
      [() => { throw boom; }, (e) => e instanceof PluginFailure && e.plugin === 'p' && e.phase === 'access' && e.cause === boom],
      [() => Promise.reject(boom), (e) => e instanceof PluginFailure && e.plugin === 'p' && e.phase === 'access'],
      [() => { throw new GatewayError('BODY_TOO_LARGE'); }, (e) => e instanceof GatewayError && e.code === 'BODY_TOO_LARGE'],
      [() => Promise.reject(new GatewayError('BODY_TOO_LARGE')), (e) => e instanceof GatewayError && e.code === 'BODY_TOO_LARGE'],
    ];
    for (const [access, expected] of cases) {
      const { run } = runFor([plugin('p', 10, [], { access })]);
      // Thrown synchronously or rejected, the caller's `await` in a try sees the same error.
      await assert.rejects(async () => await run.access(), expected);
    }
  });

  it('log: every collected plugin runs; a failing one is logged and the next still runs', async () => {
    const trail: string[] = [];
    const { run } = runFor([
      plugin('a', 20, trail, { access: nothing, log: () => { throw new Error('log broke'); } }),
      plugin('b', 10, trail, { access: nothing, log: later }),
    ]);
    run.access();
    const pending = run.log();
    assert.ok(pending instanceof Promise);
    await pending;
    assert.deepEqual(trail, ['a:access', 'b:access', 'a:log', 'b:log']);
  });
});
