import { definePlugin } from '../../contract.ts';
import * as handler from './handler.ts';
import { schema } from './schema.ts';

/** Kong's cors: answers preflights and adds Access-Control-* headers (no consumer scope, as Kong). */
export const plugin = definePlugin({ name: 'cors', schema, handler, scopes: { consumer: false } });
