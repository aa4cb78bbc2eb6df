#!/usr/bin/env node
// swarmd: runs the TypeScript sources through tsx (a runtime dependency for exactly this reason).
import { register } from 'tsx/esm/api';

register();
await import('../agent/cli/swarmd-main.ts');
