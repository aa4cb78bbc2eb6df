/** Durable Raft storage: WAL, snapshot files, and the file-system abstraction they run on. */
export * from './fs';
export { crc32c } from './crc32c';
export {
  DEFAULT_SEGMENT_BYTES,
  Wal,
  WalClosedError,
  WalCorruptionError,
  WalFailedError,
  type SnapshotMarker,
  type TornTail,
  type WalBatch,
  type WalOpenResult,
  type WalOptions,
} from './wal';
export * from './snapshot-store';
export * from './raft-storage';
