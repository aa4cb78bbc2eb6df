/**
 * A task's container, as Docker's create call takes it (SwarmKit's daemon/cluster/executor/container
 * adapter): named `<service>.<slot>.<task id>`, labelled so the agent can find its containers again
 * after a restart, with the task spec's process, mounts, resources, host-mode ports and stop settings.
 * Pure functions: no engine is needed to test them.
 */
import type Docker from 'dockerode';
import { taskName } from '../../api/task-lifecycle';
import type { Mount, PortConfig, Task } from '../../api/objects';

export const LABEL_TASK = 'com.docker.swarm.task';
export const LABEL_TASK_ID = 'com.docker.swarm.task.id';
export const LABEL_TASK_NAME = 'com.docker.swarm.task.name';
export const LABEL_NODE_ID = 'com.docker.swarm.node.id';
export const LABEL_SERVICE_ID = 'com.docker.swarm.service.id';
export const LABEL_SERVICE_NAME = 'com.docker.swarm.service.name';
/** Not one of Docker's: the replica slot (0 for a global service's task). */
export const LABEL_TASK_SLOT = 'swarmdesk.task.slot';

/** SwarmKit's default stop grace period. */
export const DEFAULT_STOP_GRACE_PERIOD_MS = 10_000;

/** The container name: the task's own name, or the one the lifecycle rules derive. */
export function containerName(task: Task): string {
  return task.name ?? taskName(task.serviceAnnotations.name, task.slot === 0 ? task.nodeId : task.slot, task.id);
}

/** Docker stops take whole seconds; a grace is never cut short by rounding. */
export function stopTimeoutSeconds(task: Task): number {
  const ms = task.spec.container.stopGracePeriodMs ?? DEFAULT_STOP_GRACE_PERIOD_MS;
  return Math.max(0, Math.ceil(ms / 1000));
}

/** The task's ports published in host mode (ingress ports belong to the routing mesh, not to the container). */
export function hostPorts(task: Task): PortConfig[] {
  return (task.endpoint?.ports ?? []).filter((p) => p.publishMode === 'host');
}

export function portKey(port: Pick<PortConfig, 'targetPort' | 'protocol'>): string {
  return `${port.targetPort}/${port.protocol}`;
}

export function containerLabels(task: Task): Record<string, string> {
  return {
    ...task.spec.container.labels,
    [LABEL_TASK]: '',
    [LABEL_TASK_ID]: task.id,
    [LABEL_TASK_NAME]: containerName(task),
    [LABEL_NODE_ID]: task.nodeId,
    [LABEL_SERVICE_ID]: task.serviceId,
    [LABEL_SERVICE_NAME]: task.serviceAnnotations.name,
    [LABEL_TASK_SLOT]: String(task.slot),
  };
}

function mountConfig(mount: Mount): Docker.MountSettings {
  switch (mount.type) {
    case 'bind':
      return { Type: 'bind', Source: mount.source ?? '', Target: mount.target, ReadOnly: mount.readOnly ?? false };
    case 'volume':
      // An empty source makes Docker create an anonymous volume.
      return { Type: 'volume', Source: mount.source ?? '', Target: mount.target, ReadOnly: mount.readOnly ?? false };
    case 'tmpfs':
      return { Type: 'tmpfs', Source: '', Target: mount.target, ReadOnly: mount.readOnly ?? false };
  }
}

export function createOptions(task: Task): Docker.ContainerCreateOptions {
  const c = task.spec.container;
  const limits = task.spec.resources?.limits;
  const reservations = task.spec.resources?.reservations;
  const ports = hostPorts(task);
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const port of ports) {
    exposed[portKey(port)] = {};
    // No published port: the engine picks a free one, which the task's port status then reports.
    const binding = { HostIp: '', HostPort: port.publishedPort === undefined || port.publishedPort === 0 ? '' : String(port.publishedPort) };
    (bindings[portKey(port)] ??= []).push(binding);
  }
  const hostConfig: Docker.HostConfig = {
    Mounts: (c.mounts ?? []).map(mountConfig),
    PortBindings: bindings,
    // The agent restarts nothing itself: a new task replaces a dead one (the orchestrator's restart policy).
    RestartPolicy: { Name: 'no' },
  };
  if (limits?.nanoCpus !== undefined && limits.nanoCpus > 0) hostConfig.NanoCpus = limits.nanoCpus;
  if (limits?.memoryBytes !== undefined && limits.memoryBytes > 0) hostConfig.Memory = limits.memoryBytes;
  if (reservations?.memoryBytes !== undefined && reservations.memoryBytes > 0) hostConfig.MemoryReservation = reservations.memoryBytes;

  const options: Docker.ContainerCreateOptions = {
    name: containerName(task),
    Image: c.image,
    Labels: containerLabels(task),
    Env: c.env ?? [],
    Tty: c.tty ?? false,
    ExposedPorts: exposed,
    StopTimeout: stopTimeoutSeconds(task),
    HostConfig: hostConfig,
  };
  // Docker's own meaning, as SwarmKit maps it: command replaces the entrypoint, args the image's CMD.
  if (c.command !== undefined && c.command.length > 0) options.Entrypoint = c.command;
  if (c.args !== undefined && c.args.length > 0) options.Cmd = c.args;
  if (c.hostname !== undefined && c.hostname !== '') options.Hostname = c.hostname;
  if (c.dir !== undefined && c.dir !== '') options.WorkingDir = c.dir;
  if (c.user !== undefined && c.user !== '') options.User = c.user;
  if (c.stopSignal !== undefined && c.stopSignal !== '') options.StopSignal = c.stopSignal;
  return options;
}

/** What `docker inspect` says about bound ports, as the task's port status (host mode). */
export function boundPorts(inspected: Record<string, { HostIp: string; HostPort: string }[] | null> | undefined): PortConfig[] {
  const ports: PortConfig[] = [];
  for (const [key, bindings] of Object.entries(inspected ?? {})) {
    if (bindings === null || bindings.length === 0) continue;
    const [target, protocol] = key.split('/');
    const published = Number(bindings[0].HostPort);
    if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') continue;
    ports.push({ protocol, targetPort: Number(target), publishedPort: published, publishMode: 'host' });
  }
  return ports.sort((a, b) => a.targetPort - b.targetPort || a.protocol.localeCompare(b.protocol));
}
