/** React's view of the stores: each hook selects one table or value, so it re-renders only when that changes. */
import { useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import type { ClusterSummary, LocalNodeState, NodeView, ServiceView, Task, UiSettings } from '../../../electron/contract';
import type { ClusterState } from './cluster-store';
import { clusterStore, connectionErrorStore, localNodeStore, settingsStore } from './cluster-sync';
import type { ValueStore } from './value-store';
import { type TaskFilter, type TaskRows, updateTaskRows } from './task-filter';
import { nodeName } from '../format';

function useClusterSlice<T>(select: (state: ClusterState) => T): T {
  return useSyncExternalStore(clusterStore.subscribe, () => select(clusterStore.getState()));
}

const selectNodes = (state: ClusterState) => state.nodes;
const selectServices = (state: ClusterState) => state.services;
const selectTasks = (state: ClusterState) => state.tasks;
const selectCluster = (state: ClusterState) => state.cluster;
const selectPhase = (state: ClusterState) => state.phase;
const selectError = (state: ClusterState) => state.error;

export const useNodes = (): ReadonlyMap<string, NodeView> => useClusterSlice(selectNodes);
export const useServices = (): ReadonlyMap<string, ServiceView> => useClusterSlice(selectServices);
export const useTasks = (): ReadonlyMap<string, Task> => useClusterSlice(selectTasks);
export const useClusterSummary = (): ClusterSummary | undefined => useClusterSlice(selectCluster);
export const useSyncPhase = (): ClusterState['phase'] => useClusterSlice(selectPhase);
export const useSyncError = (): string | undefined => useClusterSlice(selectError);

export function useNode(id: string | undefined): NodeView | undefined {
  const nodes = useNodes();
  return id === undefined ? undefined : nodes.get(id);
}

export function useService(id: string | undefined): ServiceView | undefined {
  const services = useServices();
  return id === undefined ? undefined : services.get(id);
}

function sameEntries<K, V>(a: ReadonlyMap<K, V>, b: ReadonlyMap<K, V>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, value] of a) if (b.get(key) !== value) return false;
  return true;
}

/**
 * Node ID -> name, for tables that show where tasks run. The same Map for as long as the names stay the
 * same: nodes change with every batch of task updates (their task counts), and a new Map would make
 * every visible row of a task table render again.
 */
export function useNodeNames(): ReadonlyMap<string, string> {
  const nodes = useNodes();
  const last = useRef<ReadonlyMap<string, string>>(new Map());
  return useMemo(() => {
    const names = new Map([...nodes.values()].map((node) => [node.id, nodeName(node)]));
    if (!sameEntries(names, last.current)) last.current = names;
    return last.current;
  }, [nodes]);
}

/**
 * The tasks `filter` lets through, in table order, brought up to date from the last list when only the
 * tasks changed (updateTaskRows). `filter` should keep its identity while unchanged. Any earlier result
 * is a valid start, so a render React throws away does no harm.
 */
export function useTaskRows(tasks: ReadonlyMap<string, Task>, filter: TaskFilter): readonly Task[] {
  const last = useRef<TaskRows | undefined>(undefined);
  return useMemo(() => {
    last.current = updateTaskRows(last.current, tasks, filter);
    return last.current.rows;
  }, [tasks, filter]);
}

function useValue<T>(store: ValueStore<T>): T {
  return useSyncExternalStore(store.subscribe, store.get);
}

export const useLocalNode = (): LocalNodeState | undefined => useValue(localNodeStore);
export const useConnectionError = (): string | undefined => useValue(connectionErrorStore);
export const useSettings = (): UiSettings => useValue(settingsStore);

/** The time, refreshed every `periodMs`, for "5 minutes ago" columns. */
export function useNow(periodMs = 10_000): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), periodMs);
    return () => clearInterval(timer);
  }, [periodMs]);
  return now;
}
