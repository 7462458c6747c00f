// `node --import ./bin/register.mjs file.ts`: run TypeScript through `ts-hooks.mjs` (see there).
import { register } from 'node:module';
process.setSourceMapsEnabled(true);
register('./ts-hooks.mjs', import.meta.url);
