import { definePlugin } from '../../contract.ts';
import * as handler from './handler.ts';
import { schema } from './schema.ts';

/** Kong's request-transformer: rewrite the upstream request's method, path, headers, query and body. */
export const plugin = definePlugin({ name: 'request-transformer', schema, handler });
