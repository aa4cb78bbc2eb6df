export { RawNode, type RawNodeStatus, type ProgressStatus } from './raw-node';
export { MemoryStorage, SnapshotOutOfDateError } from './memory-storage';
export { InvalidRaftConfigError, validateConfig } from './config';
export { ProgressState } from './progress';
export { CAMPAIGN_TRANSFER_CONTEXT } from './raft';
export { entrySize, payloadSize } from './util';
