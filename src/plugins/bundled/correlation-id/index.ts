import { definePlugin } from '../../contract.ts';
import * as handler from './handler.ts';
import { schema } from './schema.ts';

/** Kong's correlation-id: a request id header sent upstream and optionally echoed back. */
export const plugin = definePlugin({ name: 'correlation-id', schema, handler });
