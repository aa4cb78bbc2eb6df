/**
 * The built renderer the end-to-end tests and bench:ui serve. `npm run build` (CI runs it before the
 * tests) leaves one in out/renderer; it is used when it is newer than every source the renderer is
 * built from. Otherwise (a fresh checkout, or sources changed since the last build) the renderer alone
 * is built with Vite into a directory of its own under test-results/ (marked complete when done), so
 * out/ (which other builds write) is never touched and two test processes building at once never
 * serve each other's half-written files.
 *
 * Always a production build, as `npm run build` makes: Vite takes the mode of its output from
 * process.env.NODE_ENV when it is set, and under Vitest it is 'test', which gave React's development
 * build and the development JSX transform (jsxDEV, owner stacks, extra checks: several times slower);
 * bench:ui then served and measured the last such build an end-to-end test had made.
 */
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { build } from 'vite';

const REPO = resolve(import.meta.dirname, '../..');
const OUT_RENDERER = join(REPO, 'out/renderer');
const RESULTS = join(REPO, 'test-results');
const PRIVATE_PREFIX = 'e2e-renderer-';
/** Marks a finished production build (the name changed when builds made under Vitest were development ones). */
const COMPLETE = '.complete-production';
/** What the renderer bundle is made of: its own sources and what they import from the contract and agent/api. */
const SOURCES = ['renderer', 'electron/contract.ts', 'electron/machine-input.ts', 'agent/api'].map((path) => join(REPO, path));

function newestMtime(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** When the build in `dir` finished (its index.html, or its completion mark), if it did. */
function builtAt(dir: string, file: string): number | undefined {
  const path = join(dir, file);
  return existsSync(path) ? statSync(path).mtimeMs : undefined;
}

function privateBuilds(): string[] {
  return existsSync(RESULTS) ? readdirSync(RESULTS).filter((name) => name.startsWith(PRIVATE_PREFIX)).map((name) => join(RESULTS, name)) : [];
}

/** The directory of an up-to-date renderer build, building one if needed. */
export async function rendererBuild(log: (line: string) => void = () => undefined): Promise<string> {
  const sources = Math.max(...SOURCES.map(newestMtime));
  const out = builtAt(OUT_RENDERER, 'index.html');
  if (out !== undefined && out >= sources) return OUT_RENDERER;
  const fresh = privateBuilds()
    .map((dir) => ({ dir, at: builtAt(dir, COMPLETE) }))
    .filter((build) => build.at !== undefined && build.at >= sources)
    .sort((a, b) => (b.at ?? 0) - (a.at ?? 0))[0];
  if (fresh !== undefined) return fresh.dir;
  // Builds older than the sources are of no more use once no test can still be serving them (an hour).
  for (const dir of privateBuilds()) {
    const at = builtAt(dir, COMPLETE);
    if (at !== undefined && at < sources && Date.now() - at > 3_600_000) rmSync(dir, { recursive: true, force: true });
  }
  const outDir = join(RESULTS, `${PRIVATE_PREFIX}${process.pid}`);
  log(`building the renderer into ${outDir} (out/renderer is missing or older than its sources)`);
  // Vite (and the React plugin's JSX transform) read the output's mode from NODE_ENV when it is set, so
  // it says production for the build's length and is put back after.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      configFile: false,
      root: join(REPO, 'renderer'),
      base: './',
      mode: 'production',
      plugins: [react()],
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true, rollupOptions: { input: join(REPO, 'renderer/index.html') } },
    });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  writeFileSync(join(outDir, COMPLETE), '');
  return outDir;
}
