// The node's worker run from the TypeScript sources (tsx, Vitest): a worker thread does not share the
// loader of the thread that made it, so it registers tsx's itself first (as bin/swarmd.mjs does). The
// built app runs out/main/node-worker.js instead (electron.vite.config.ts).
import { register } from 'tsx/esm/api';

register();
await import('./worker-main.ts');
