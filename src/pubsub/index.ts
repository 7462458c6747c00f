/** Public surface of the pub/sub foundation (transports and the publisher API import from here). */
export * from './errors.ts';
export * from './message-id.ts';
export type * from './engine.ts';
export * from './policies.ts';
export * from './hub.ts';
export { DEFAULT_SUBSCRIBER_LIMITS } from './subscription.ts';
export { createMemoryEngine, type MemoryEngineOptions } from './engines/memory/index.ts';
