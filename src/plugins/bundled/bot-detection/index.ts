import { definePlugin } from '../../contract.ts';
import * as handler from './handler.ts';
import { schema } from './schema.ts';

/** Kong's bot-detection: refuses crawler User-Agents (Kong's list plus `deny`, minus `allow`). */
export const plugin = definePlugin({ name: 'bot-detection', schema, handler, scopes: { consumer: false } });
