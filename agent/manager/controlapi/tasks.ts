/**
 * The control API's task methods, run on the leader (SwarmKit's controlapi/task.go): tasks are made by
 * the orchestrators, so people only list, read and remove them.
 */
import type { Empty, GetTaskRequest, ListTasksRequest, RemoveTaskRequest } from '../../api/control';
import { ApiError } from '../../api/errors';
import type { Task } from '../../api/objects';
import type { MemoryStore, ReadTx } from '../../store';

/** Starts from the most selective index the request allows, then applies the other filters. */
function findTasks(tx: ReadTx, request: ListTasksRequest): Task[] {
  const { serviceId, nodeId, desiredState } = request;
  const candidates =
    serviceId !== undefined
      ? tx.find('task', 'serviceId', serviceId)
      : nodeId !== undefined
        ? tx.find('task', 'nodeId', nodeId)
        : desiredState !== undefined
          ? tx.find('task', 'desiredState', desiredState)
          : tx.list('task');
  return candidates.filter(
    (task) =>
      (serviceId === undefined || task.serviceId === serviceId) &&
      (nodeId === undefined || task.nodeId === nodeId) &&
      (desiredState === undefined || task.desiredState === desiredState),
  );
}

export class TaskHandlers {
  constructor(private readonly store: MemoryStore) {}

  async listTasks(request: ListTasksRequest): Promise<{ tasks: Task[] }> {
    return { tasks: this.store.view((tx) => findTasks(tx, request)) };
  }

  async getTask(request: GetTaskRequest): Promise<{ task: Task }> {
    const task = this.store.get('task', request.taskId);
    if (task === undefined) throw new ApiError('NotFound', `task ${request.taskId} not found`);
    return { task };
  }

  /**
   * Deletes the task object. Its node stops being sent the task and removes the container; a
   * replicated slot left empty is refilled by the orchestrator.
   */
  async removeTask(request: RemoveTaskRequest): Promise<Empty> {
    await this.store.update((tx) => {
      if (tx.get('task', request.taskId) === undefined) throw new ApiError('NotFound', `task ${request.taskId} not found`);
      tx.delete('task', request.taskId);
    });
    return {};
  }
}
