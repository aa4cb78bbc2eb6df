/** Public surface of the replicated object store. */
export { ApiError, isApiError, type ErrorCode } from '../api/errors';
export type { ApplyOutcome, Change, ChangeAction } from './apply';
export { ENTRY_FORMAT_VERSION } from './entry';
export { newId } from './ids';
export { LocalProposer, createLocalStore, type LocalProposerOptions, type LoggedEntry } from './local-proposer';
export {
  DEFAULT_MAX_ENTRY_BYTES,
  MemoryStore,
  type Batch,
  type BatchResult,
  type CommitResult,
  type MemoryStoreOptions,
  type ViewAndWatch,
  type WriteOptions,
} from './memory-store';
export type { ReadTx, UniquelyNamedKind } from './read-tx';
export type { Proposer, StateMachine } from '../raft/state-machine';
export type { IndexKey, IndexName, IndexQueries, KeyPart } from './schema';
export { SNAPSHOT_FORMAT_VERSION } from './snapshot';
export {
  DEFAULT_WATCH_BUFFER,
  FELL_BEHIND_MESSAGE,
  Subscription,
  type ChangeEvent,
  type CommitEvent,
  type RestoredEvent,
  type StoreEvent,
  type WatchOptions,
} from './watch';
export type { NewObject, WriteTx } from './write-tx';
