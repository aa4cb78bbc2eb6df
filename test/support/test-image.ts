/**
 * The image the Docker tests run: a root filesystem made of Debian's static busybox (a shell, httpd,
 * sleep, ...) imported with `docker import`, since no registry can be reached here. Each tag gets its own
 * image (its tag is written in /www/version and /etc/swarmdesk-test-version), so an image update is
 * visible from outside: `busybox httpd -f -p 80 -h /www` serves the tag at /version.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { busyboxPath } from './private-dockerd';

export const TEST_IMAGE_REPO = 'swarmdesk-test';

/** The command that makes a container of the test image serve /www on `port`. */
export function httpdCommand(port = 80): string[] {
  return ['/bin/busybox', 'httpd', '-f', '-p', String(port), '-h', '/www'];
}

async function makeRootfs(dir: string, version: string): Promise<void> {
  const busybox = busyboxPath();
  if (busybox === undefined) throw new Error('busybox not found: apt-get install -y busybox-static');
  for (const sub of ['bin', 'etc', 'www', 'tmp', 'root', 'proc', 'sys', 'dev', 'data']) await mkdir(join(dir, sub), { recursive: true });
  await copyFile(busybox, join(dir, 'bin', 'busybox'));
  const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .map((a) => a.trim())
    .filter((a) => a !== '' && a !== 'busybox');
  for (const applet of applets) await symlink('busybox', join(dir, 'bin', applet));
  await writeFile(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/tmp:/bin/sh\n');
  await writeFile(join(dir, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  await writeFile(join(dir, 'etc', 'swarmdesk-test-version'), `${version}\n`);
  await writeFile(join(dir, 'www', 'index.html'), `swarmdesk test image ${version}\n`);
  await writeFile(join(dir, 'www', 'version'), `${version}\n`);
  // mkdtemp makes the root 0700: a container running as another user could not even reach /bin.
  await chmod(dir, 0o755);
  await chmod(join(dir, 'tmp'), 0o1777);
}

function tarStream(dir: string): NodeJS.ReadableStream {
  const tar = spawn('tar', ['-C', dir, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return tar.stdout;
}

async function importRootfs(docker: Docker, dir: string, repo: string, tag: string): Promise<void> {
  const stream = await docker.importImage(tarStream(dir), { repo, tag });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, output: { error?: string }[]) => {
      const failed = output.find((o) => o.error !== undefined);
      if (err) reject(err);
      else if (failed !== undefined) reject(new Error(`docker import failed: ${failed.error}`));
      else resolve();
    });
  });
}

/**
 * Imports the test image into `docker` under `${repo}:${tag}` for each tag (default `swarmdesk-test:1`
 * and `:2`), and returns the references.
 */
export async function importTestImage(docker: Docker, tags: readonly string[] = ['1', '2'], repo = TEST_IMAGE_REPO): Promise<string[]> {
  const refs: string[] = [];
  for (const tag of tags) {
    const dir = await mkdtemp(join(tmpdir(), 'swarmdesk-rootfs-'));
    try {
      await makeRootfs(dir, tag);
      await importRootfs(docker, dir, repo, tag);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    refs.push(`${repo}:${tag}`);
  }
  return refs;
}

/** An image reference that cannot be had: its registry is a closed port on this machine (no DNS, no traffic out). */
export const MISSING_IMAGE = '127.0.0.1:9/swarmdesk-missing:1';
