import { definePlugin } from '../../contract.ts';
import * as handler from './handler.ts';
import { schema } from './schema.ts';

/** key-auth: Kong's API-key authentication; never consumer-scoped (it is what finds the consumer). */
export const plugin = definePlugin({ name: 'key-auth', schema, handler, scopes: { consumer: false } });
