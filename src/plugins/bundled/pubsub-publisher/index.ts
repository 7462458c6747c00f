import { definePlugin } from '../../contract.ts';
import * as handler from './handler.ts';
import { schema, type Config } from './schema.ts';

export const plugin = definePlugin<Config, ReturnType<typeof handler.compile>>({ name: 'pubsub-publisher', schema, handler });
