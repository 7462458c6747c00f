import { createMemoryEngine } from '../../src/pubsub/engines/memory/index.ts';
import { engineConformance } from './engine-conformance.ts';

engineConformance('memory', (now) => createMemoryEngine({ now, sweepIntervalMs: 0 }));
engineConformance('memory (with sweep timer)', (now) => createMemoryEngine({ now, sweepIntervalMs: 5 }));
