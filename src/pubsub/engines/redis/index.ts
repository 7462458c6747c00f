export { createRedisEngine, type RedisEngine, type RedisEngineOptions } from './redis-engine.ts';
export { DEFAULT_NAMESPACE } from './keys.ts';
