import { after } from 'node:test';
import { createRedisEngine } from '../../src/pubsub/engines/redis/index.ts';
import { redisClusterForSuite } from '../helpers/redis-cluster.ts';
import { testNamespace } from '../helpers/redis.ts';
import { engineConformance } from './engine-conformance.ts';

// The same suite as the memory engine, against a three-master Redis Cluster (no replicas: the
// failover test has its own): the suite's channels land on every master. Each engine gets a
// fresh namespace; the cluster goes at the end.
const cluster = await redisClusterForSuite('engine conformance: redis cluster');
if (cluster !== undefined) {
  after(() => cluster.stop());
  const run = testNamespace('cluster-conformance');
  let n = 0;
  engineConformance('redis cluster', async (now) => {
    const engine = createRedisEngine({ url: cluster.url, namespace: `${run}${n++}:`, now });
    await engine.ready();
    return engine;
  });
}
