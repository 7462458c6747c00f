import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUNDLED_PLUGINS } from '../../src/plugins/bundled/index.ts';
import { accessOrder, findOrderingCycle } from '../../src/plugins/ordering.ts';

/** Kong 3.x's PRIORITY for each bundled plugin (kong/plugins/<name>/handler.lua). */
const KONG_PRIORITIES: Record<string, number> = {
  'correlation-id': 100001,
  'bot-detection': 2500,
  cors: 2000,
  jwt: 1450,
  'key-auth': 1250,
  'basic-auth': 1100,
  'ip-restriction': 990,
  'request-size-limiting': 951,
  acl: 950,
  'rate-limiting': 910,
  'request-transformer': 801,
  'response-transformer': 800,
  'request-termination': 2,
};

test('every bundled plugin has Kong\'s PRIORITY', () => {
  for (const plugin of BUNDLED_PLUGINS) {
    if (plugin.name in KONG_PRIORITIES) assert.equal(plugin.PRIORITY, KONG_PRIORITIES[plugin.name], plugin.name);
  }
});

test('for every pair of bundled plugins the chain runs the higher PRIORITY first, and ordering overrides it', () => {
  for (const a of BUNDLED_PLUGINS) {
    for (const b of BUNDLED_PLUGINS) {
      if (a === b) continue;
      // Equal priorities (the two pub/sub terminators) run in name order.
      const aFirst = a.PRIORITY > b.PRIORITY || (a.PRIORITY === b.PRIORITY && a.name < b.name);
      const [high, low] = aFirst ? [a, b] : [b, a];
      const nodes = [
        { name: a.name, priority: a.PRIORITY },
        { name: b.name, priority: b.PRIORITY },
      ];
      assert.deepEqual(accessOrder(nodes), [high.name, low.name], `${a.name} vs ${b.name}`);
      const flipped = [
        { name: high.name, priority: high.PRIORITY, after: [low.name] },
        { name: low.name, priority: low.PRIORITY },
      ];
      assert.deepEqual(accessOrder(flipped), [low.name, high.name], `${high.name} after ${low.name}`);
      const flippedBefore = [
        { name: high.name, priority: high.PRIORITY },
        { name: low.name, priority: low.PRIORITY, before: [high.name] },
      ];
      assert.deepEqual(accessOrder(flippedBefore), [low.name, high.name], `${low.name} before ${high.name}`);
    }
  }
});

test('ordering moves only what it must and detects cycles', () => {
  const nodes = [
    { name: 'a', priority: 30 },
    { name: 'b', priority: 20 },
    { name: 'c', priority: 10, before: ['a'] },
    { name: 'd', priority: 5 },
  ];
  assert.deepEqual(accessOrder(nodes), ['c', 'a', 'b', 'd']);
  assert.deepEqual(findOrderingCycle([{ name: 'a', priority: 1, before: ['b'] }, { name: 'b', priority: 2, before: ['a'] }]), ['a', 'b', 'a']);
  assert.equal(findOrderingCycle(nodes), undefined);
  assert.throws(() => accessOrder([{ name: 'a', priority: 1, after: ['a'] }]), /cycle/);
});
