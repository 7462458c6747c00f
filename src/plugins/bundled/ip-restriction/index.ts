import { definePlugin } from '../../contract.ts';
import * as handler from './handler.ts';
import { schema } from './schema.ts';

/** Kong's ip-restriction: allow/deny by client IP or CIDR. */
export const plugin = definePlugin({ name: 'ip-restriction', schema, handler });
