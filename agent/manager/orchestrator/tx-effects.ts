/**
 * Things decided inside a write transaction that must only happen once it commits (arming a restart
 * timer) or must be undone if it does not (dropping a claim taken in the callback). Transaction
 * callbacks are synchronous and may be rolled back, so they record these instead of doing them.
 */
export class TxEffects {
  private readonly onCommit: (() => void)[] = [];
  private readonly onAbort: (() => void)[] = [];

  afterCommit(fn: () => void): void {
    this.onCommit.push(fn);
  }

  ifAborted(fn: () => void): void {
    this.onAbort.push(fn);
  }

  committed(): void {
    for (const fn of this.onCommit) fn();
  }

  aborted(): void {
    for (const fn of this.onAbort) fn();
  }
}
