#!/usr/bin/env node
// Runs the TypeScript CLI straight from a checkout or an install: `ts-hooks.mjs` transforms the
// sources as they load (see there why not tsx at run time).
import './register.mjs';
await import('../src/cli/bin.ts');
