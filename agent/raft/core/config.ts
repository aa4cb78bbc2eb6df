/** Validation of RaftConfig (etcd's Config.validate), with messages that say what to fix. */
import { type RaftConfig, NONE } from '../types';

export class InvalidRaftConfigError extends Error {
  constructor(reason: string) {
    super(`invalid raft config: ${reason}`);
    this.name = 'InvalidRaftConfigError';
  }
}

function isNonNegativeInteger(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

export function validateConfig(c: RaftConfig): void {
  const fail = (reason: string): never => {
    throw new InvalidRaftConfigError(reason);
  };
  if (c.id === NONE || !Number.isSafeInteger(c.id) || c.id < 0) fail(`id must be a positive safe integer (got ${c.id})`);
  if (!Number.isSafeInteger(c.heartbeatTick) || c.heartbeatTick <= 0) fail(`heartbeatTick must be > 0 (got ${c.heartbeatTick})`);
  if (!Number.isSafeInteger(c.electionTick) || c.electionTick <= c.heartbeatTick) {
    fail(`electionTick must be an integer > heartbeatTick (got electionTick=${c.electionTick}, heartbeatTick=${c.heartbeatTick})`);
  }
  if (!c.storage) fail('storage is required');
  if (typeof c.randomInt !== 'function') fail('randomInt is required (the core owns no randomness)');
  if (!isNonNegativeInteger(c.applied)) fail(`applied must be a non-negative integer (got ${c.applied})`);
  if (!(c.maxSizePerMsg >= 0)) fail(`maxSizePerMsg must be >= 0 (got ${c.maxSizePerMsg})`);
  if (!Number.isSafeInteger(c.maxInflightMsgs) || c.maxInflightMsgs <= 0) fail(`maxInflightMsgs must be > 0 (got ${c.maxInflightMsgs})`);
  if (!(c.maxInflightBytes >= 0)) fail(`maxInflightBytes must be >= 0, 0 meaning no cap (got ${c.maxInflightBytes})`);
  if (c.maxInflightBytes > 0 && c.maxInflightBytes < c.maxSizePerMsg) {
    fail(`maxInflightBytes (${c.maxInflightBytes}) must be >= maxSizePerMsg (${c.maxSizePerMsg})`);
  }
}
