import { definePlugin } from '../../contract.ts';
import * as handler from './handler.ts';
import { schema } from './schema.ts';

/** Kong's request-termination: answer with a fixed status and message (or echo), never proxy. */
export const plugin = definePlugin({ name: 'request-termination', schema, handler });
