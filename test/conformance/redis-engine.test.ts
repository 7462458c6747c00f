import { after } from 'node:test';
import { createRedisEngine } from '../../src/pubsub/engines/redis/index.ts';
import { dropNamespace, redisForSuite, testNamespace } from '../helpers/redis.ts';
import { engineConformance } from './engine-conformance.ts';

// The same suite as the memory engine, against a real Redis. Each engine the suite makes gets a
// fresh namespace (tests expect an empty engine); the whole run's keys are dropped at the end.
const url = await redisForSuite('engine conformance: redis');
if (url !== undefined) {
  const run = testNamespace('conformance');
  let n = 0;
  after(() => dropNamespace(url, run));
  engineConformance('redis', async (now) => {
    const engine = createRedisEngine({ url, namespace: `${run}${n++}:`, now });
    await engine.ready();
    return engine;
  });
}
