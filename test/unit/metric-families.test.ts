import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { CounterFamily, HistogramFamily } from '../../src/observability/metric-families.ts';
import { parseMetrics, sample } from '../helpers/metrics.ts';

test('histogram cells: a value equal to a bound falls in that bucket (le), buckets are cumulative, +Inf counts all', async () => {
  const registry = new Registry();
  const latency = new HistogramFamily('t_latency_ms', 'help', ['route'], [1, 5, 10]);
  registry.registerMetric(latency.metric);
  const cell = latency.cell(['a']);
  for (const v of [0.5, 1, 5, 7, 11]) cell.observe(v);
  latency.cell(['never-observed']);
  const s = parseMetrics(await registry.metrics());
  assert.equal(s.types.get('t_latency_ms'), 'histogram');
  assert.deepEqual(
    ['1', '5', '10', '+Inf'].map((le) => sample(s, 't_latency_ms_bucket', { route: 'a', le })),
    [2, 3, 4, 5],
  );
  assert.equal(sample(s, 't_latency_ms_sum', { route: 'a' }), 24.5);
  assert.equal(sample(s, 't_latency_ms_count', { route: 'a' }), 5);
  assert.equal(sample(s, 't_latency_ms_count', { route: 'never-observed' }), undefined, 'series without observations are left out');
});

test('counter cells: one series per label values, label values escaped in the text', async () => {
  const registry = new Registry();
  const requests = new CounterFamily('t_requests_total', 'help', ['route', 'code']);
  registry.registerMetric(requests.metric);
  requests.cell(['a "quoted"\\route', '200']).value += 2;
  assert.equal(requests.cell(['a "quoted"\\route', '200']), requests.cell(['a "quoted"\\route', '200']), 'resolved once, same cell');
  requests.cell(['b', '404']).value++;
  const s = parseMetrics(await registry.metrics());
  assert.equal(s.types.get('t_requests_total'), 'counter');
  assert.equal(sample(s, 't_requests_total', { route: 'a "quoted"\\route', code: '200' }), 2);
  assert.equal(sample(s, 't_requests_total', { route: 'b', code: '404' }), 1);
  await registry.resetMetrics();
  assert.equal(sample(parseMetrics(await registry.metrics()), 't_requests_total', { route: 'b', code: '404' }), 0);
});
