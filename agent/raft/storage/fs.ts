/**
 * Storage file-system abstraction: the interface (see fs-types.ts) and its two implementations,
 * NodeFs (real files, fs/promises only) and MemoryFs (in-memory, models crashes, torn writes and ENOSPC).
 */
export * from './fs-types';
export { NodeFs } from './node-fs';
export { MemoryFs } from './memory-fs';
export type { MemoryFsOptions, CrashOptions, FsOp, FsOpKind, MemoryFsStats } from './memory-fs';
