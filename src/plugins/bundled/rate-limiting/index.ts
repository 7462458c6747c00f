import { definePlugin } from '../../contract.ts';
import * as handler from './handler.ts';
import { schema } from './schema.ts';

/** Kong's rate-limiting: counts requests per consumer/credential/IP/... in calendar or sliding windows. */
export const plugin = definePlugin({ name: 'rate-limiting', schema, handler });
