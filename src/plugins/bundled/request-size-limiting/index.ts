import { definePlugin } from '../../contract.ts';
import * as handler from './handler.ts';
import { schema } from './schema.ts';

/** Kong's request-size-limiting: refuses bodies over `allowed_payload_size`. */
export const plugin = definePlugin({ name: 'request-size-limiting', schema, handler });
