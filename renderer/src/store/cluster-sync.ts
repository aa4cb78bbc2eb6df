/**
 * Wires the stores to the main process: one event listener for the whole app, the local node's state
 * (which decides between the Setup page and the cluster pages), and the cluster subscription, taken
 * when the local node runs and taken again on `resync` or when events were missed.
 */
import type { LocalNodeState, SwarmdeskEvent, UiSettings } from '../../../electron/contract';
import { onDisconnect, onSwarmdeskEvent, swarmdesk } from '../api';
import { errorMessage } from '../format';
import { ClusterStore } from './cluster-store';
import { createValueStore } from './value-store';

const PUBLISH_FALLBACK_MS = 250;

/**
 * Runs `publish` at the next animation frame, or after PUBLISH_FALLBACK_MS if no frame comes first (a
 * hidden window gets none, and the store's readers should not fall far behind it).
 */
function nextFrame(publish: () => void): void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    cancelAnimationFrame(frame);
    clearTimeout(timer);
    publish();
  };
  const frame = requestAnimationFrame(once);
  const timer = setTimeout(once, PUBLISH_FALLBACK_MS);
}

/** Change events are published once per frame: a burst of them is one render, not one per event. */
export const clusterStore = new ClusterStore(nextFrame);

/** Undefined until the first getLocalNode answers. */
export const localNodeStore = createValueStore<LocalNodeState | undefined>(undefined);
/** Why the local node's state could not be read (the connection to main failed). */
export const connectionErrorStore = createValueStore<string | undefined>(undefined);
export const settingsStore = createValueStore<UiSettings>({ theme: 'system', logTimestamps: false });

type EventHandler = (event: SwarmdeskEvent) => void;
const extraHandlers = new Set<EventHandler>();

/** For views with their own streams (logs): events other than the store's. */
export function onAppEvent(handler: EventHandler): () => void {
  extraHandlers.add(handler);
  return () => extraHandlers.delete(handler);
}

let subscribing: Promise<void> | undefined;
let wantSubscription = false;

async function subscribe(): Promise<void> {
  clusterStore.beginLoading();
  try {
    const snapshot = await swarmdesk.subscribeCluster();
    if (!wantSubscription) return;
    if (clusterStore.applySnapshot(snapshot) === 'gap') resubscribe();
  } catch (err) {
    clusterStore.failLoading(errorMessage(err));
  }
}

/** Subscribe (again); calls made while one is on its way are folded into one more after it. */
export function resubscribe(): void {
  wantSubscription = true;
  const previous = subscribing ?? Promise.resolve();
  const next = previous.then(subscribe);
  subscribing = next;
  void next.finally(() => {
    if (subscribing === next) subscribing = undefined;
  });
}

function followLocalNode(state: LocalNodeState): void {
  const previous = localNodeStore.get();
  // The subscription is asked for before the new state is shown: rendering the shell and its first page
  // takes a while on a cold load, and the cluster's snapshot can be on its way meanwhile.
  if (state.phase === 'running') {
    if (previous?.phase !== 'running' || clusterStore.getState().phase === 'idle') resubscribe();
  } else if (state.phase === 'unconfigured') {
    wantSubscription = false;
    clusterStore.reset();
  }
  localNodeStore.set(state);
}

function handle(event: SwarmdeskEvent): void {
  switch (event.kind) {
    case 'local-node':
      followLocalNode(event.state);
      break;
    case 'changes':
      if (clusterStore.applyChanges(event) === 'gap') resubscribe();
      break;
    case 'resync':
      resubscribe();
      break;
    default:
      break;
  }
  for (const handler of extraHandlers) handler(event);
}

let started = false;

/** Start listening; called once when the app mounts. */
export function startSync(): void {
  if (started) return;
  started = true;
  onSwarmdeskEvent(handle);
  onDisconnect((reason) => connectionErrorStore.set(reason));
  swarmdesk.getLocalNode().then(followLocalNode, (err: unknown) => connectionErrorStore.set(errorMessage(err)));
  swarmdesk.getSettings().then(
    (settings) => settingsStore.set(settings),
    () => undefined, // the defaults stand; saving a change reports its own failure
  );
}

/** Save a setting and apply it at once (the answer is what main stored). */
export async function saveSettings(change: Partial<UiSettings>): Promise<void> {
  settingsStore.set({ ...settingsStore.get(), ...change });
  settingsStore.set(await swarmdesk.updateSettings(change));
}
