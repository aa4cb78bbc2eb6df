/**
 * Spreading one group of equal tasks (same service, same spec version) over the nodes that passed the
 * filters, the way SwarmKit does:
 *  - nodes are ranked by: a node with MAX_RECENT_FAILURES recent failures of this service goes last,
 *    then fewest tasks of this service, then fewest tasks in total;
 *  - spread preferences make a tree whose levels are label values (nodes without the label form their
 *    own branch); tasks are split so branches end up with equal counts of this service's tasks, the
 *    remainder going to the emptiest, and a branch that runs out of room leaves its share to the others;
 *  - within a leaf, tasks are dealt to the ranked nodes: the first node is filled until it is no longer
 *    ahead of the next, then the next, and once every node has had its turn, one task each in turn.
 * Everything happens in one pass over the group, with one ranking per leaf visit, rather than one
 * ranking per task: that is what keeps 100,000 tasks cheap.
 */
import { MAX_RECENT_FAILURES, type NodeInfo } from './node-info';
import { type Requirements, hasDynamicFilters, hasRoom } from './filters';

interface Branch {
  /** Active tasks of this service on the branch's nodes (kept up to date as tasks are placed). */
  tasks: number;
  /** Leaf: its nodes. */
  readonly nodes: NodeInfo[];
  /** Inner: one child per label value, in value order. */
  readonly children: Branch[];
}

const NO_LABEL = '\u0000';

/** The value of a spread descriptor on a node; undefined when the node lacks the label. */
function spreadValue(node: NodeInfo, descriptor: string): string | undefined {
  const lower = descriptor.toLowerCase();
  if (lower.startsWith('node.labels.')) return node.labels[descriptor.slice('node.labels.'.length)];
  if (lower.startsWith('engine.labels.')) return node.engineLabels[descriptor.slice('engine.labels.'.length)];
  return undefined;
}

function buildTree(candidates: readonly NodeInfo[], req: Requirements): Branch {
  interface Building extends Branch {
    byValue: Map<string, Building>;
  }
  const make = (): Building => ({ tasks: 0, nodes: [], children: [], byValue: new Map() });
  const root = make();
  for (const node of candidates) {
    const own = node.tasksOfService(req.serviceId);
    let branch = root;
    branch.tasks += own;
    for (const descriptor of req.spreadOver) {
      const key = spreadValue(node, descriptor) ?? NO_LABEL;
      let child = branch.byValue.get(key);
      if (child === undefined) {
        child = make();
        branch.byValue.set(key, child);
      }
      child.tasks += own;
      branch = child;
    }
    branch.nodes.push(node);
  }
  const finish = (b: Building): void => {
    for (const key of [...b.byValue.keys()].sort()) {
      const child = b.byValue.get(key) as Building;
      finish(child);
      b.children.push(child);
    }
  };
  finish(root);
  return root;
}

/** Places tasks of one group; `assign` takes the next task of the group and puts it on `node`. */
export class GroupSpreader {
  private readonly dynamic: boolean;

  constructor(
    private readonly req: Requirements,
    private readonly now: number,
    private readonly assign: (node: NodeInfo) => void,
  ) {
    this.dynamic = hasDynamicFilters(req);
  }

  /** Negative when `a` should get the next task before `b`. */
  compare(a: NodeInfo, b: NodeInfo): number {
    const fa = a.recentFailureCount(this.req.failureKey, this.now);
    const fb = b.recentFailureCount(this.req.failureKey, this.now);
    if ((fa >= MAX_RECENT_FAILURES || fb >= MAX_RECENT_FAILURES) && fa !== fb) return fa - fb;
    const sa = a.tasksOfService(this.req.serviceId);
    const sb = b.tasksOfService(this.req.serviceId);
    if (sa !== sb) return sa - sb;
    return a.activeTasks - b.activeTasks;
  }

  /** Places up to `n` tasks on `candidates` (nodes that passed every filter); returns how many. */
  place(candidates: readonly NodeInfo[], n: number): number {
    if (n <= 0 || candidates.length === 0) return 0;
    return this.placeOnBranch(buildTree(candidates, this.req), n);
  }

  private placeOnBranch(branch: Branch, n: number): number {
    if (branch.children.length === 0) {
      const placed = this.placeOnLeaf(branch.nodes, n);
      branch.tasks += placed;
      return placed;
    }
    const open = new Set(branch.children);
    // This service's tasks in branches that can still take more, plus those left to place, are what
    // the open branches should end up sharing equally.
    let openTasks = branch.tasks;
    let placed = 0;
    while (placed < n && open.size > 0) {
      const share = openTasks + (n - placed);
      const even = Math.floor(share / open.size);
      let extra = share % open.size;
      // Emptiest branches first, so the remainder goes to those that have fewest of this service's tasks.
      const order = [...open].sort((a, b) => a.tasks - b.tasks);
      for (const child of order) {
        if (placed === n) break;
        if (child.tasks > even || (child.tasks === even && extra === 0)) continue;
        const bonus = extra > 0 ? 1 : 0;
        const want = Math.min(even - child.tasks + bonus, n - placed);
        const got = this.placeOnBranch(child, want);
        placed += got;
        if (got < want) {
          // Out of room: it keeps what it has, and its tasks no longer count in the even share.
          open.delete(child);
          openTasks -= child.tasks - got;
        } else {
          openTasks += got;
          extra -= bonus;
        }
      }
    }
    branch.tasks += placed;
    return placed;
  }

  /**
   * Deals `n` tasks to a leaf's nodes. Only the best `n` nodes are ranked: each of them fits at least
   * one task, so they are enough, and with many nodes and few tasks this avoids sorting them all.
   */
  private placeOnLeaf(leaf: readonly NodeInfo[], n: number): number {
    const usable = this.dynamic ? leaf.filter((node) => hasRoom(node, this.req)) : leaf;
    const nodes = this.best(usable, n);
    const count = nodes.length;
    if (count === 0) return 0;
    const full = this.dynamic ? new Uint8Array(count) : undefined;
    let placed = 0;
    let i = 0;
    while (placed < n) {
      if (full !== undefined) {
        let tried = 0;
        while (full[i % count] === 1 || !hasRoom(nodes[i % count], this.req)) {
          full[i % count] = 1;
          i++;
          if (++tried === count) return placed;
        }
      }
      const node = nodes[i % count];
      this.assign(node);
      placed++;
      // First round: stay on a node until the next one is ahead of it (so nodes that start behind
      // catch up before the others get more). Later rounds: take turns.
      if (i + 1 < count) {
        if (this.compare(nodes[i + 1], node) < 0) i++;
      } else {
        i++;
      }
    }
    return placed;
  }

  /** The `k` best nodes, best first. */
  private best(nodes: readonly NodeInfo[], k: number): NodeInfo[] {
    const cmp = (a: NodeInfo, b: NodeInfo) => this.compare(a, b);
    if (k >= nodes.length) return [...nodes].sort(cmp);
    // A max-heap of the k best seen so far: its root is the worst of them, replaced by anything better.
    const heap: NodeInfo[] = [];
    const up = (j: number) => {
      while (j > 0) {
        const parent = (j - 1) >> 1;
        if (cmp(heap[j], heap[parent]) <= 0) return;
        [heap[j], heap[parent]] = [heap[parent], heap[j]];
        j = parent;
      }
    };
    const down = (j: number) => {
      for (;;) {
        const l = 2 * j + 1;
        const r = l + 1;
        let worst = j;
        if (l < heap.length && cmp(heap[l], heap[worst]) > 0) worst = l;
        if (r < heap.length && cmp(heap[r], heap[worst]) > 0) worst = r;
        if (worst === j) return;
        [heap[j], heap[worst]] = [heap[worst], heap[j]];
        j = worst;
      }
    };
    for (const node of nodes) {
      if (heap.length < k) {
        heap.push(node);
        up(heap.length - 1);
      } else if (cmp(node, heap[0]) < 0) {
        heap[0] = node;
        down(0);
      }
    }
    return heap.sort(cmp);
  }
}
