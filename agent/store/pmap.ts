/**
 * A persistent (immutable) sorted map from string keys, as a path-copying AVL tree. Every write returns a
 * new map sharing all untouched nodes with the old one, so taking a snapshot of the store is O(1) (keep
 * the root) and a write costs O(log n) small allocations instead of a table copy. Sorted order gives the
 * prefix scans the store needs (id prefixes, composite index keys), like SwarmKit's go-memdb radix trees.
 *
 * Keys compare by UTF-16 code units (JavaScript `<`), which is deterministic on every manager.
 *
 * Bulk writes (applying an entry of thousands of actions) may pass an Edit token: nodes created under
 * the same token are updated in place instead of copied again (Clojure's "transients"). Only nodes
 * created under the token are ever mutated, so maps published before the edit began are untouched; the
 * caller must not publish a map until it stops using the token.
 */

/** An identity token for one batch of in-place-capable writes (see the module comment). */
export type Edit = { readonly edit: true };

export function newEdit(): Edit {
  return { edit: true };
}

interface TreeNode<V> {
  k: string;
  v: V;
  l: TreeNode<V> | null;
  r: TreeNode<V> | null;
  h: number;
  n: number;
  /** The edit that created this node, or null: only that edit may mutate it. */
  readonly o: Edit | null;
}

/** Counts tree nodes touched by reads, so tests can assert a lookup is indexed without timing it. */
export interface VisitCounter {
  visited: number;
}

function height<V>(t: TreeNode<V> | null): number {
  return t === null ? 0 : t.h;
}

function count<V>(t: TreeNode<V> | null): number {
  return t === null ? 0 : t.n;
}

function make<V>(k: string, v: V, l: TreeNode<V> | null, r: TreeNode<V> | null, o: Edit | null): TreeNode<V> {
  const hl = height(l);
  const hr = height(r);
  return { k, v, l, r, h: (hl > hr ? hl : hr) + 1, n: count(l) + count(r) + 1, o };
}

/** `t` with new children: in place if the current edit owns it, else a copy. */
function withChildren<V>(t: TreeNode<V>, l: TreeNode<V> | null, r: TreeNode<V> | null, o: Edit | null): TreeNode<V> {
  if (o === null || t.o !== o) return make(t.k, t.v, l, r, o);
  const hl = height(l);
  const hr = height(r);
  t.l = l;
  t.r = r;
  t.h = (hl > hr ? hl : hr) + 1;
  t.n = count(l) + count(r) + 1;
  return t;
}

/** Rebuilds `t` (key and value kept) over children whose heights differ by at most 2, restoring AVL balance. */
function balance<V>(t: TreeNode<V>, l: TreeNode<V> | null, r: TreeNode<V> | null, o: Edit | null): TreeNode<V> {
  const hl = height(l);
  const hr = height(r);
  const { k, v } = t;
  if (hl > hr + 1) {
    const L = l as TreeNode<V>;
    if (height(L.l) >= height(L.r)) return make(L.k, L.v, L.l, make(k, v, L.r, r, o), o);
    const LR = L.r as TreeNode<V>;
    return make(LR.k, LR.v, make(L.k, L.v, L.l, LR.l, o), make(k, v, LR.r, r, o), o);
  }
  if (hr > hl + 1) {
    const R = r as TreeNode<V>;
    if (height(R.r) >= height(R.l)) return make(R.k, R.v, make(k, v, l, R.l, o), R.r, o);
    const RL = R.l as TreeNode<V>;
    return make(RL.k, RL.v, make(k, v, l, RL.l, o), make(R.k, R.v, RL.r, R.r, o), o);
  }
  return withChildren(t, l, r, o);
}

function insert<V>(t: TreeNode<V> | null, k: string, v: V, o: Edit | null): TreeNode<V> {
  if (t === null) return { k, v, l: null, r: null, h: 1, n: 1, o };
  if (k < t.k) {
    const l = insert(t.l, k, v, o);
    // Under an edit the child may have changed in place (same identity, new size): always rebuild.
    return l === t.l && o === null ? t : balance(t, l, t.r, o);
  }
  if (k > t.k) {
    const r = insert(t.r, k, v, o);
    return r === t.r && o === null ? t : balance(t, t.l, r, o);
  }
  if (t.v === v) return t;
  if (o !== null && t.o === o) {
    t.v = v;
    return t;
  }
  return { k, v, l: t.l, r: t.r, h: t.h, n: t.n, o };
}

function minNode<V>(t: TreeNode<V>): TreeNode<V> {
  let cur = t;
  while (cur.l !== null) cur = cur.l;
  return cur;
}

function removeMin<V>(t: TreeNode<V>, o: Edit | null): TreeNode<V> | null {
  if (t.l === null) return t.r;
  return balance(t, removeMin(t.l, o), t.r, o);
}

function remove<V>(t: TreeNode<V> | null, k: string, o: Edit | null): TreeNode<V> | null {
  if (t === null) return null;
  if (k < t.k) {
    const l = remove(t.l, k, o);
    return l === t.l && o === null ? t : balance(t, l, t.r, o);
  }
  if (k > t.k) {
    const r = remove(t.r, k, o);
    return r === t.r && o === null ? t : balance(t, t.l, r, o);
  }
  if (t.l === null) return t.r;
  if (t.r === null) return t.l;
  const m = minNode(t.r);
  // The successor moves up: a fresh node (never mutate `m`, which may be shared) takes t's place.
  const replacement = make(m.k, m.v, t.l, t.r, o);
  return balance(replacement, t.l, removeMin(t.r, o), o);
}

function buildSorted<V>(keys: readonly string[], values: readonly V[], lo: number, hi: number): TreeNode<V> | null {
  if (lo >= hi) return null;
  const mid = (lo + hi) >>> 1;
  return make(keys[mid], values[mid], buildSorted(keys, values, lo, mid), buildSorted(keys, values, mid + 1, hi), null);
}

export class PMap<V> {
  private static readonly EMPTY = new PMap<never>(null);

  private constructor(private readonly root: TreeNode<V> | null) {}

  static empty<V>(): PMap<V> {
    return PMap.EMPTY as PMap<V>;
  }

  /** Builds a balanced map in O(n) from keys that are strictly ascending (checked). */
  static fromSorted<V>(keys: readonly string[], values: readonly V[]): PMap<V> {
    if (keys.length !== values.length) throw new RangeError('keys and values differ in length');
    for (let i = 1; i < keys.length; i++) {
      if (!(keys[i - 1] < keys[i])) throw new RangeError(`keys not strictly ascending at ${i}`);
    }
    return new PMap(buildSorted(keys, values, 0, keys.length));
  }

  get size(): number {
    return count(this.root);
  }

  get(key: string, counter?: VisitCounter): V | undefined {
    let t = this.root;
    while (t !== null) {
      if (counter) counter.visited++;
      if (key < t.k) t = t.l;
      else if (key > t.k) t = t.r;
      else return t.v;
    }
    return undefined;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** A map with `key` set. With an Edit, nodes that edit created earlier are reused in place. */
  set(key: string, value: V, edit: Edit | null = null): PMap<V> {
    const root = insert(this.root, key, value, edit);
    return root === this.root ? this : new PMap(root);
  }

  delete(key: string, edit: Edit | null = null): PMap<V> {
    const root = remove(this.root, key, edit);
    return root === this.root ? this : new PMap(root);
  }

  /** Entries with key >= from, ascending. Lazy: stopping early costs only what was read. */
  *from(from: string, counter?: VisitCounter): Generator<[string, V]> {
    const stack: TreeNode<V>[] = [];
    let t = this.root;
    while (t !== null) {
      if (counter) counter.visited++;
      if (t.k >= from) {
        stack.push(t);
        t = t.l;
      } else {
        t = t.r;
      }
    }
    while (stack.length > 0) {
      const node = stack.pop() as TreeNode<V>;
      yield [node.k, node.v];
      let c = node.r;
      while (c !== null) {
        if (counter) counter.visited++;
        stack.push(c);
        c = c.l;
      }
    }
  }

  /** Entries whose key starts with `prefix`, ascending. */
  *prefix(prefix: string, counter?: VisitCounter): Generator<[string, V]> {
    for (const entry of this.from(prefix, counter)) {
      if (!entry[0].startsWith(prefix)) return;
      yield entry;
    }
  }

  *entries(): Generator<[string, V]> {
    yield* this.from('');
  }

  *values(): Generator<V> {
    for (const [, v] of this.from('')) yield v;
  }

  /** Tree height; exposed for tests of the balance invariant. */
  get depth(): number {
    return height(this.root);
  }
}
