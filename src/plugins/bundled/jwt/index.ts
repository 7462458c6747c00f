import { definePlugin } from '../../contract.ts';
import * as handler from './handler.ts';
import { schema } from './schema.ts';

/** Kong's jwt plugin; like every auth plugin it cannot be scoped to a consumer. */
export const plugin = definePlugin({ name: 'jwt', schema, handler, scopes: { consumer: false } });
