/**
 * Container logs across the cluster (SwarmKit's api/logbroker.proto): a user subscribes on a manager
 * (`swarmctl service logs`), the leader's broker asks the nodes that run the selected tasks to publish
 * their containers' output, and forwards what they publish to the subscriber.
 *
 *   Logs.SubscribeLogs              client -> manager, server stream of LogBatch
 *   LogBroker.ListenSubscriptions   node -> leader, server stream of SubscriptionMessage
 *   LogBroker.PublishLogs           node -> leader, unary, one batch of lines (or the end) per call
 */
import { z } from 'zod';

export const LOGS_PATHS = Object.freeze({
  subscribeLogs: '/swarmdesk.logs.Logs/SubscribeLogs',
  listenSubscriptions: '/swarmdesk.logs.LogBroker/ListenSubscriptions',
  publishLogs: '/swarmdesk.logs.LogBroker/PublishLogs',
});

/** Upper bounds that keep one subscriber from making the cluster read gigabytes. */
export const MAX_TAIL = 100_000;
export const MAX_LINE_BYTES = 64 * 1024;
export const MAX_LINES_PER_BATCH = 1000;

const id = z.string().regex(/^[0-9a-z]{1,64}$/);

export const logSelectorSchema = z.strictObject({
  serviceIds: z.array(id).max(100).optional(),
  taskIds: z.array(id).max(10_000).optional(),
});
export type LogSelector = z.infer<typeof logSelectorSchema>;

export const logOptionsSchema = z.strictObject({
  follow: z.boolean(),
  /** Lines from the end of each task's log (all when absent). */
  tail: z.number().int().min(0).max(MAX_TAIL).optional(),
});
export type LogOptions = z.infer<typeof logOptionsSchema>;

export const subscribeLogsRequestSchema = z.strictObject({ selector: logSelectorSchema, options: logOptionsSchema });
export type SubscribeLogsRequest = z.infer<typeof subscribeLogsRequestSchema>;

export const logLineSchema = z.strictObject({
  serviceId: id,
  taskId: id,
  nodeId: id,
  /** When the container wrote it (ISO-8601, from the engine). */
  timestamp: z.string().max(64),
  stream: z.enum(['stdout', 'stderr']),
  data: z.string().max(MAX_LINE_BYTES),
});
export type LogLine = z.infer<typeof logLineSchema>;

/** What a subscriber receives. */
export interface LogBatch {
  lines: LogLine[];
}

/** What a node is asked to publish: the tasks of its own it should read, under one subscription ID. */
export const subscriptionMessageSchema = z.strictObject({
  subscriptionId: id,
  tasks: z.array(z.strictObject({ taskId: id, serviceId: id })),
  options: logOptionsSchema,
  /** The subscriber went away: stop reading. */
  close: z.boolean().optional(),
});
export type SubscriptionMessage = z.infer<typeof subscriptionMessageSchema>;

export const publishLogsRequestSchema = z.strictObject({
  subscriptionId: id,
  lines: z.array(logLineSchema).max(MAX_LINES_PER_BATCH),
  /** This node has sent everything it will for the subscription (a non-follow read is done). */
  close: z.boolean().optional(),
});
export type PublishLogsRequest = z.infer<typeof publishLogsRequestSchema>;
