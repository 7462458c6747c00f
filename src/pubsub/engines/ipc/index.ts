export { createIpcEngine } from './ipc-engine.ts';
export { createEngineHost, type EngineHost } from './engine-host.ts';
export { primaryPort, workerPort } from './cluster-ports.ts';
export type { EnginePort, EngineMessage } from './protocol.ts';
