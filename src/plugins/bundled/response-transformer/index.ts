import { definePlugin } from '../../contract.ts';
import * as handler from './handler.ts';
import { schema } from './schema.ts';

/** Kong's response-transformer: rewrite response headers and top-level keys of JSON bodies. */
export const plugin = definePlugin({ name: 'response-transformer', schema, handler });
