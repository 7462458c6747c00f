export { createMemoryEngine, type MemoryEngineOptions } from './memory-engine.ts';
