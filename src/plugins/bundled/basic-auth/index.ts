import { definePlugin } from '../../contract.ts';
import * as handler from './handler.ts';
import { schema } from './schema.ts';

/** basic-auth: Kong's username/password authentication; never consumer-scoped (it is what finds the consumer). */
export const plugin = definePlugin({ name: 'basic-auth', schema, handler, scopes: { consumer: false } });
