/**
 * `npm run web`: browser mode from the command line. Builds the renderer if this checkout has no build
 * yet, starts the services and the server, prints the address to open (with its token), and stops the
 * local node cleanly on Ctrl-C.
 *
 *   npm run web -- [--port 4280] [--home <dir>] [--engine-addr unix:///var/run/docker.sock]
 *   PORT and SWARMDESK_HOME work too; --port 0 picks a free port.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { dataHome } from '../main/data-home';
import { DEFAULT_RENDERER_DIR, DEFAULT_WEB_PORT, startWebServer } from './server';

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('a port is 0 to 65535');
  return port;
}

async function main(): Promise<void> {
  const program = new Command('swarmdesk-web')
    .description('swarmdesk in a browser: the desktop app\'s services, headless, on 127.0.0.1')
    .option('--port <port>', `port on 127.0.0.1 (0: any free one; default PORT or ${DEFAULT_WEB_PORT})`, parsePort)
    .option('--home <dir>', 'data folder (default SWARMDESK_HOME, else ~/.swarmdesk)')
    .option('--engine-addr <addr>', 'Docker Engine for this machine\'s tasks (default DOCKER_HOST, else the standard socket)')
    .option('--rebuild', 'build the renderer even if a build exists')
    .parse();
  const flags = program.opts<{ port?: number; home?: string; engineAddr?: string; rebuild?: boolean }>();
  const port = flags.port ?? (process.env.PORT === undefined || process.env.PORT === '' ? DEFAULT_WEB_PORT : parsePort(process.env.PORT));

  if (flags.rebuild === true || !existsSync(join(DEFAULT_RENDERER_DIR, 'index.html'))) {
    console.error('building the renderer (electron-vite build)...');
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const built = spawnSync('npx', ['electron-vite', 'build'], { cwd: root, stdio: 'inherit' });
    if (built.status !== 0) throw new Error('electron-vite build failed');
  }

  const server = await startWebServer({ home: flags.home === undefined ? dataHome() : resolve(flags.home), port, services: { engineAddr: flags.engineAddr } });
  console.log(`swarmdesk (browser mode), data in ${server.services.home}`);
  console.log(`open ${server.url}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`${signal}: stopping the local node...`);
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err instanceof Error ? err.message : String(err));
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(`swarmdesk web: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
