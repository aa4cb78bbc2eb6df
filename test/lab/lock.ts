// One `up`/`down` at a time per lab: vitest runs test files in parallel processes, and two of them
// bringing the same lab up at once would race on every `ip` command. A lock file holding the owner's pid;
// a lock whose owner is dead is taken over.
import { openSync, readFileSync, unlinkSync, writeSync, closeSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { pidAlive } from './processes';

export async function withLock<T>(lockFile: string, what: string, fn: () => Promise<T>, timeoutMs = 180_000): Promise<T> {
  mkdirSync(path.dirname(lockFile), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(lockFile, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner = NaN;
    try {
      owner = Number(readFileSync(lockFile, 'utf8').trim());
    } catch {
      continue; // released between our open and read
    }
    if (!Number.isInteger(owner) || owner <= 0 || !pidAlive(owner)) {
      // Stale (its owner died, or it was never written): remove and race for it again.
      try {
        unlinkSync(lockFile);
      } catch {
        // someone else removed it first
      }
      continue;
    }
    if (owner === process.pid) throw new Error(`lab ${what}: this process already holds ${lockFile}`);
    if (Date.now() > deadline) throw new Error(`lab ${what}: ${lockFile} still held by pid ${owner} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
  try {
    return await fn();
  } finally {
    try {
      if (readFileSync(lockFile, 'utf8').trim() === String(process.pid)) unlinkSync(lockFile);
    } catch {
      // already gone
    }
  }
}
