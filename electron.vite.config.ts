import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

// Sources live in electron/ and renderer/ (see ../shared/design/architecture.md), not electron-vite's
// default src/ layout, so every entry is named here.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      // The swarmd node runs in a worker thread (electron/main/node-worker): its entry is built beside
      // index.js as node-worker.js, where node-worker.ts looks for it.
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'electron/main/index.ts'),
          'node-worker': resolve(__dirname, 'electron/main/node-worker/worker-main.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // A sandboxed preload cannot be an ES module, so it is bundled as CommonJS.
      rollupOptions: {
        input: { index: resolve(__dirname, 'electron/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'renderer'),
    plugins: [react()],
    build: {
      outDir: 'out/renderer',
      // electron-vite leaves bundles unminified; the renderer's is parsed at every window load.
      minify: true,
      rollupOptions: { input: { index: resolve(__dirname, 'renderer/index.html') } },
    },
  },
});
