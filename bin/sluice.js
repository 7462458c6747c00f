#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so `sluice` works straight from a checkout or an install.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/bin.ts');
