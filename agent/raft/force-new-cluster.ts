/**
 * Recovery after losing quorum (swarmd --force-new-cluster): a surviving member restarts as the only
 * voter of its cluster, keeping everything it has. Its whole log is replayed into the state machine
 * and folded into one snapshot whose membership names only this member; every other member id is
 * marked removed, so their messages are ignored and they must join again under new ids.
 *
 * Every entry the survivor holds is kept, not only those its disk knows to be committed: the stored
 * commit index lags (commit-only changes are not written), and an operator forcing a new cluster
 * wants the newest state the survivor has rather than an older one.
 */
import { decodeConfChange } from './codec';
import { decodeSnapshotEnvelope, encodeSnapshotEnvelope, type MemberAddresses } from './membership';
import { unwrapProposal } from './proposal-envelope';
import type { RestoredState } from './runner';
import type { StateMachine } from './state-machine';
import { type ConfState, EntryType, type HardState, type NodeId, type Snapshot } from './types';

export function forceNewClusterState(
  self: NodeId,
  address: string,
  restored: RestoredState,
  stateMachine: StateMachine,
): { snapshot: Snapshot; hardState: HardState } {
  const members: MemberAddresses = new Map();
  let confState: ConfState = { voters: [], learners: [], removed: [] };
  let index = 0;
  let term = 0;
  if (restored.snapshot) {
    const envelope = decodeSnapshotEnvelope(restored.snapshot.data);
    for (const [id, addr] of envelope.members) members.set(id, addr);
    stateMachine.restore(envelope.state, restored.snapshot.metadata.index);
    confState = restored.snapshot.metadata.confState;
    index = restored.snapshot.metadata.index;
    term = restored.snapshot.metadata.term;
  } else {
    stateMachine.restore(new Uint8Array(0), 0);
  }
  const everyone = new Set<NodeId>([...confState.voters, ...confState.learners, ...confState.removed, ...members.keys()]);
  for (const entry of restored.entries) {
    if (entry.index <= index) continue;
    index = entry.index;
    term = entry.term;
    if (entry.type === EntryType.ConfChange) {
      everyone.add(decodeConfChange(entry.data).nodeId);
    } else if (entry.data.length > 0) {
      try {
        stateMachine.apply(unwrapProposal(entry.data).payload, entry.index);
      } catch {
        // A rejected entry changes nothing, exactly as when it was first applied.
      }
    }
  }
  everyone.delete(self);
  const removed = [...everyone].sort((a, b) => a - b);
  const snapshot: Snapshot = {
    metadata: { index, term, confState: { voters: [self], learners: [], removed } },
    data: encodeSnapshotEnvelope(new Map([[self, address]]), stateMachine.snapshot()),
  };
  // A fresh term (one past anything seen) so no old member's vote or log can outrank the survivor.
  const hardState: HardState = { term: Math.max(term, restored.hardState.term) + 1, vote: self, commit: index };
  return { snapshot, hardState };
}
