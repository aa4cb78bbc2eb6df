import { describe, expect, it } from 'vitest';
import { MemoryFs } from '../../../agent/raft/storage/fs';
import { CrashNow, seededRandom } from './helpers';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

async function setup(): Promise<MemoryFs> {
  const fs = new MemoryFs({ random: seededRandom(1) });
  await fs.mkdirp('/d');
  return fs;
}

describe('MemoryFs durability model', () => {
  it('keeps synced bytes and drops the unsynced tail on crash', async () => {
    const fs = await setup();
    const f = await fs.openAppend('/d/a');
    await f.append(enc('hello '));
    await f.datasync();
    await fs.syncDir('/d');
    await f.append(enc('world'));
    expect(dec(await fs.readFile('/d/a'))).toBe('hello world');
    fs.crash();
    expect(dec(await fs.readFile('/d/a'))).toBe('hello ');
  });

  it('forgets a synced file whose directory entry was never synced', async () => {
    const fs = await setup();
    const f = await fs.openAppend('/d/a');
    await f.append(enc('data'));
    await f.datasync();
    fs.crash();
    await expect(fs.readFile('/d/a')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('makes renames and unlinks durable only after syncDir', async () => {
    const fs = await setup();
    for (const name of ['a', 'b']) {
      const f = await fs.openAppend(`/d/${name}`);
      await f.append(enc(name));
      await f.datasync();
    }
    await fs.syncDir('/d');
    await fs.rename('/d/a', '/d/c');
    await fs.unlink('/d/b');
    expect(await fs.readdir('/d')).toEqual(['c']);
    fs.crash();
    expect(await fs.readdir('/d')).toEqual(['a', 'b']);
    await fs.rename('/d/a', '/d/c');
    await fs.syncDir('/d');
    fs.crash();
    expect(await fs.readdir('/d')).toEqual(['b', 'c']);
    expect(dec(await fs.readFile('/d/c'))).toBe('a');
  });

  it('undoes an unsynced truncate on crash and keeps a synced one', async () => {
    const fs = await setup();
    const f = await fs.openAppend('/d/a');
    await f.append(enc('0123456789'));
    await f.datasync();
    await fs.syncDir('/d');
    await fs.truncate('/d/a', 4);
    expect(dec(await fs.readFile('/d/a'))).toBe('0123');
    fs.crash();
    expect(dec(await fs.readFile('/d/a'))).toBe('0123456789');
    await fs.truncate('/d/a', 4);
    const g = await fs.openAppend('/d/a');
    await g.datasync();
    fs.crash();
    expect(dec(await fs.readFile('/d/a'))).toBe('0123');
  });

  it('tears the unsynced tail to a prefix, optionally with garbage, deterministically per seed', async () => {
    const run = async (seed: number, tear: 'prefix' | 'garbage'): Promise<Uint8Array> => {
      const fs = new MemoryFs({ random: seededRandom(seed) });
      await fs.mkdirp('/d');
      const f = await fs.openAppend('/d/a');
      await f.append(enc('synced|'));
      await f.datasync();
      await fs.syncDir('/d');
      await f.append(enc('unsynced-one|'));
      await f.append(enc('unsynced-two'));
      fs.crash({ tear });
      return fs.readFile('/d/a');
    };
    const seen = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const prefix = dec(await run(seed, 'prefix'));
      expect('synced|unsynced-one|unsynced-two'.startsWith(prefix)).toBe(true);
      expect(prefix.startsWith('synced|')).toBe(true);
      seen.add(prefix);
      const garbage = await run(seed, 'garbage');
      expect(dec(garbage.subarray(0, 7))).toBe('synced|');
      expect(garbage).toEqual(await run(seed, 'garbage'));
    }
    expect(seen.size).toBeGreaterThan(5);
  });

  it('runs the hook before each mutating op; a throwing hook leaves no effect', async () => {
    const fs = await setup();
    const ops: string[] = [];
    fs.hook = (op) => {
      ops.push(op.kind);
      if (op.kind === 'rename') throw new CrashNow(ops.length);
    };
    const f = await fs.openAppend('/d/a');
    await f.append(enc('x'));
    await f.datasync();
    await fs.syncDir('/d');
    await expect(fs.rename('/d/a', '/d/b')).rejects.toBeInstanceOf(CrashNow);
    expect(await fs.readdir('/d')).toEqual(['a']);
    expect(ops).toEqual(['create', 'write', 'datasync', 'syncDir', 'rename']);
  });

  it('kills handles opened before a crash', async () => {
    const fs = await setup();
    const f = await fs.openAppend('/d/a');
    fs.crash();
    await expect(f.append(enc('x'))).rejects.toMatchObject({ code: 'EBADF' });
  });

  it('fails writes with ENOSPC after the byte budget, writing the part that fits', async () => {
    const fs = await setup();
    const f = await fs.openAppend('/d/a');
    fs.enospcAfterBytes(5);
    await f.append(enc('abc'));
    await expect(f.append(enc('defg'))).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(dec(await fs.readFile('/d/a'))).toBe('abcde');
    fs.enospcAfterBytes(undefined);
    await f.append(enc('!'));
    expect(dec(await fs.readFile('/d/a'))).toBe('abcde!');
  });

  it('reserves zeros durably; appends overwrite them, and a crash undoes unsynced overwrites', async () => {
    const fs = await setup();
    const f = await fs.openAppend('/d/a');
    await f.append(enc('head|'));
    await f.reserve(16);
    await fs.syncDir('/d');
    expect([f.size, f.reserved]).toEqual([5, 16]);
    await f.reserve(8); // already that long: nothing to do
    expect(f.reserved).toBe(16);
    await f.append(enc('abc'));
    expect([f.size, f.reserved]).toEqual([8, 16]);
    expect(dec(await fs.readFile('/d/a'))).toBe('head|abc' + '\0'.repeat(8));
    fs.crash();
    // The reservation (and what came before it) was durable; the overwrite was not.
    expect(dec(await fs.readFile('/d/a'))).toBe('head|' + '\0'.repeat(11));
    const g = await fs.openAppend('/d/a');
    expect([g.size, g.reserved]).toEqual([16, 16]);
  });

  it('keeps a synced overwrite, and past the reservation appends grow the file again', async () => {
    const fs = await setup();
    const f = await fs.openAppend('/d/a', { durableWrites: true });
    await fs.syncDir('/d');
    await f.reserve(4);
    await f.append(enc('abcdef')); // two bytes past the reservation
    fs.crash();
    expect(dec(await fs.readFile('/d/a'))).toBe('abcdef');
  });

  it('tears unsynced overwrites to a prefix in file order; their garbage stays inside them', async () => {
    const run = async (seed: number, tear: 'prefix' | 'garbage'): Promise<Uint8Array> => {
      const fs = new MemoryFs({ random: seededRandom(seed) });
      await fs.mkdirp('/d');
      const f = await fs.openAppend('/d/a');
      await f.append(enc('synced|'));
      await f.reserve(40);
      await fs.syncDir('/d');
      await f.append(enc('one|'));
      await f.append(enc('two|'));
      fs.crash({ tear });
      return fs.readFile('/d/a');
    };
    const seen = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const prefix = await run(seed, 'prefix');
      expect(prefix.length).toBe(40);
      const written = dec(prefix.subarray(7)).replace(/\0+$/, '');
      expect('one|two|'.startsWith(written)).toBe(true);
      seen.add(written);
      const garbage = await run(seed, 'garbage');
      expect(garbage.length).toBe(40);
      expect(dec(garbage.subarray(0, 7))).toBe('synced|');
      expect(garbage.subarray(15)).toEqual(new Uint8Array(25)); // nothing past the two writes changed
      expect(garbage).toEqual(await run(seed, 'garbage'));
    }
    expect(seen.size).toBeGreaterThan(3);
  });

  it('may tear an unsynced overwrite out of order: whole 512-byte sectors, each new or still old', async () => {
    const data = new Uint8Array(1536).fill(7);
    const shapes = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const fs = new MemoryFs({ random: seededRandom(seed) });
      await fs.mkdirp('/d');
      const f = await fs.openAppend('/d/a');
      await f.reserve(2048);
      await fs.syncDir('/d');
      await f.append(data);
      fs.crash({ tear: 'prefix' });
      const after = await fs.readFile('/d/a');
      expect(after.length).toBe(2048);
      const sectors = [0, 1, 2, 3].map((i) => after.subarray(i * 512, i * 512 + 512));
      expect(sectors[3]).toEqual(new Uint8Array(512));
      const shape = sectors.slice(0, 3).map((sector) => (sector.every((b) => b === 7) ? 'N' : sector.every((b) => b === 0) ? 'o' : 'x')).join('');
      shapes.add(shape);
    }
    // Prefix tears cut inside a sector ('x'); out-of-order ones leave a lost sector before a kept one.
    expect([...shapes].some((shape) => /o.*N/.test(shape))).toBe(true);
    expect([...shapes].every((shape) => /^N*x?o*$/.test(shape) || /^[No]+$/.test(shape))).toBe(true);
  });

  it('charges ENOSPC only for growth: appends into reserved space still succeed on a full disk', async () => {
    const fs = await setup();
    const f = await fs.openAppend('/d/a');
    await f.reserve(8);
    fs.enospcAfterBytes(0);
    await f.append(enc('12345678'));
    await expect(f.append(enc('9'))).rejects.toMatchObject({ code: 'ENOSPC' });
    await expect(f.reserve(12)).rejects.toMatchObject({ code: 'ENOSPC' });
    fs.enospcAfterBytes(2);
    await expect(f.reserve(12)).rejects.toMatchObject({ code: 'ENOSPC' });
    expect([f.size, f.reserved]).toEqual([8, 10]); // the part that fitted
    expect(dec(await fs.readFile('/d/a'))).toBe('12345678\0\0');
  });

  it('settles every operation without timers', async () => {
    const fs = await setup();
    let settled = false;
    void fs.openAppend('/d/a').then(() => (settled = true));
    // Microtasks only: a few awaits are enough, no timer has to fire.
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(settled).toBe(true);
  });
});
