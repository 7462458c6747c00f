import { definePlugin } from '../../contract.ts';
import * as handler from './handler.ts';
import { schema } from './schema.ts';

/** acl: Kong's group allow/deny lists; never consumer-scoped, as in Kong. */
export const plugin = definePlugin({ name: 'acl', schema, handler, scopes: { consumer: false } });
