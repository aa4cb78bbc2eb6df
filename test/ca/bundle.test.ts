/**
 * @peculiar/x509 needs the Reflect shim to run before it loads. A bundler hoists static imports of
 * external packages above inlined code, which silently broke that order once (the module threw at
 * startup only in the built app). This builds a small entry the way the app's bundles do, with the
 * library external and inlined, and runs the result in a fresh Node process.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
// Inside the project so the bundle resolves external packages from its node_modules.
const workDir = join(root, 'node_modules', '.cache', 'swarmdesk-ca-bundle-test');

async function buildAndRun(mode: 'external' | 'inlined'): Promise<string> {
  const dir = join(workDir, mode);
  await mkdir(dir, { recursive: true });
  const entry = join(dir, 'entry.ts');
  await writeFile(
    entry,
    [
      `import { createRootCa } from ${JSON.stringify(join(root, 'agent/ca/root-ca'))};`,
      `import { generateJoinToken } from ${JSON.stringify(join(root, 'agent/ca/join-token'))};`,
      `const ca = await createRootCa();`,
      `console.log(generateJoinToken(ca.certDer));`,
    ].join('\n'),
  );
  await build({
    configFile: false,
    logLevel: 'silent',
    ssr: { noExternal: mode === 'inlined' ? true : [] },
    build: {
      ssr: entry,
      outDir: join(dir, 'out'),
      emptyOutDir: true,
      minify: false,
      rollupOptions: {
        external: mode === 'external' ? ['@peculiar/x509', /^node:/] : [/^node:/],
        output: { format: 'es', entryFileNames: 'entry.mjs' },
      },
    },
  });
  const { stdout } = await promisify(execFile)(process.execPath, [join(dir, 'out', 'entry.mjs')], { cwd: dir });
  return stdout.trim();
}

describe('bundled CA code', () => {
  afterAll(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it.each(['external', 'inlined'] as const)('loads @peculiar/x509 after the Reflect shim (%s)', async (mode) => {
    expect(await buildAndRun(mode)).toMatch(/^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/);
  });
});
