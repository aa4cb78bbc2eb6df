import { describe, expect, it } from 'vitest';
import { PMap, newEdit } from '../../agent/store/pmap';

/** Deterministic PRNG so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('PMap', () => {
  it('matches a Map model under random inserts and deletes, and old versions never change', () => {
    const rand = rng(7);
    let map = PMap.empty<number>();
    const model = new Map<string, number>();
    const history: [PMap<number>, [string, number][]][] = [];
    for (let i = 0; i < 5000; i++) {
      const key = `k${Math.floor(rand() * 800)}`;
      if (rand() < 0.6) {
        map = map.set(key, i);
        model.set(key, i);
      } else {
        map = map.delete(key);
        model.delete(key);
      }
      if (i % 500 === 0) history.push([map, [...model.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))]);
    }
    expect(map.size).toBe(model.size);
    expect([...map.entries()]).toEqual([...model.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
    for (const [old, expected] of history) expect([...old.entries()]).toEqual(expected);
    // AVL height bound: 1.44 log2(n + 2).
    expect(map.depth).toBeLessThanOrEqual(Math.ceil(1.45 * Math.log2(map.size + 2)));
  });

  it('scans prefixes and lower bounds in order, lazily', () => {
    let map = PMap.empty<string>();
    for (const k of ['b', 'a', 'ab', 'abc', 'ac', 'b0', 'abd']) map = map.set(k, k.toUpperCase());
    expect([...map.prefix('ab')].map(([k]) => k)).toEqual(['ab', 'abc', 'abd']);
    expect([...map.prefix('z')]).toEqual([]);
    expect([...map.from('abd')].map(([k]) => k)).toEqual(['abd', 'ac', 'b', 'b0']);
    const counter = { visited: 0 };
    const it = map.from('', counter);
    it.next();
    expect(counter.visited).toBeLessThan(map.size);
  });

  it('builds from sorted keys and rejects unsorted ones', () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `k${String(i).padStart(4, '0')}`);
    const map = PMap.fromSorted(keys, keys);
    expect(map.size).toBe(1000);
    expect(map.get('k0500')).toBe('k0500');
    expect(map.depth).toBeLessThanOrEqual(11);
    expect(() => PMap.fromSorted(['b', 'a'], [1, 2])).toThrow(RangeError);
    expect(() => PMap.fromSorted(['a', 'a'], [1, 2])).toThrow(RangeError);
  });

  it('in-place edits never change maps published before the edit', () => {
    const rand = rng(11);
    let map = PMap.empty<number>();
    const model = new Map<string, number>();
    const published: [PMap<number>, [string, number][]][] = [];
    const sorted = () => [...model.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    for (let round = 0; round < 60; round++) {
      const edit = newEdit();
      for (let i = 0; i < 200; i++) {
        const key = `k${Math.floor(rand() * 1500)}`;
        if (rand() < 0.65) {
          map = map.set(key, round * 1000 + i, edit);
          model.set(key, round * 1000 + i);
        } else {
          map = map.delete(key, edit);
          model.delete(key);
        }
      }
      // Publishing = no further writes with that edit; the next round uses a new one.
      published.push([map, sorted()]);
      expect(map.size).toBe(model.size);
    }
    for (const [old, expected] of published) {
      expect([...old.entries()]).toEqual(expected);
      expect(old.size).toBe(expected.length);
    }
    expect(map.depth).toBeLessThanOrEqual(Math.ceil(1.45 * Math.log2(map.size + 2)));
  });

  it('returns the same map for no-op writes', () => {
    const m = PMap.empty<number>().set('a', 1);
    expect(m.delete('zz')).toBe(m);
    expect(m.set('a', 1)).toBe(m);
  });
});
