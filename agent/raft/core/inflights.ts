/**
 * Flow control for one follower (etcd's Inflights): a ring of the last index and payload size of
 * each App message sent but not yet acknowledged. Full when it holds `capacity` messages or, with a
 * byte cap, at least `maxBytes` bytes (the message that crosses the cap is still allowed, so a single
 * large entry can always be sent).
 */
export class Inflights {
  private start = 0;
  private count = 0;
  private bytes = 0;
  // Allocated on first use: most followers of a small cluster never fill the window.
  private indexes: Float64Array | undefined;
  private sizes: Float64Array | undefined;

  constructor(
    readonly capacity: number,
    readonly maxBytes: number,
  ) {}

  get length(): number {
    return this.count;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  full(): boolean {
    return this.count === this.capacity || (this.maxBytes > 0 && this.bytes >= this.maxBytes);
  }

  /** Records an App message whose last entry is `index`. Indexes must be added in increasing order. */
  add(index: number, bytes: number): void {
    if (this.full()) throw new Error('cannot add to a full inflights window');
    if (!this.indexes || !this.sizes) {
      this.indexes = new Float64Array(this.capacity);
      this.sizes = new Float64Array(this.capacity);
    }
    let slot = this.start + this.count;
    if (slot >= this.capacity) slot -= this.capacity;
    this.indexes[slot] = index;
    this.sizes[slot] = bytes;
    this.count++;
    this.bytes += bytes;
  }

  /** Frees every message whose last index is <= `to` (they have been acknowledged). */
  freeLE(to: number): void {
    if (this.count === 0 || !this.indexes || !this.sizes || to < this.indexes[this.start]) return;
    let slot = this.start;
    let freed = 0;
    while (freed < this.count && this.indexes[slot] <= to) {
      this.bytes -= this.sizes[slot];
      freed++;
      slot++;
      if (slot >= this.capacity) slot -= this.capacity;
    }
    this.count -= freed;
    this.start = this.count === 0 ? 0 : slot;
  }

  /** Frees the oldest message: a heartbeat response proves the follower is alive, so probe on. */
  freeFirstOne(): void {
    if (this.count === 0 || !this.indexes) return;
    this.freeLE(this.indexes[this.start]);
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
    this.bytes = 0;
  }
}
