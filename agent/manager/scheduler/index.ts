/** The scheduler: a pure placement core (placement.ts) and the leader duty that feeds it (scheduler.ts). */
export { FAILURE_WINDOW_MS, MAX_RECENT_FAILURES, NodeInfo, type TaskFootprint } from './node-info';
export { NodeSet, occupiesNode } from './node-set';
export { placeTasks, type Assignment, type PlacementResult, type Unplaced } from './placement';
export { DEFAULT_BATCH_DELAY_MS, DEFAULT_MAX_BATCH_DELAY_MS, Scheduler, type SchedulerOptions, wantsPlacement } from './scheduler';
