/**
 * The lines a log view holds: appended as `logs` events arrive, capped so a chatty service cannot
 * exhaust the renderer's memory, and filtered by text and task for display. Pure.
 */
import type { LogLine } from '../../../electron/contract';

export const MAX_LOG_LINES = 20_000;

export interface LogFilter {
  /** Case-insensitive substring of the line's text. */
  search: string;
  /** Only this task's lines ('' for all). */
  taskId: string;
}

/** A new array with `incoming` appended and the oldest dropped beyond `max`. */
export function appendLines(current: readonly LogLine[], incoming: readonly LogLine[], max = MAX_LOG_LINES): LogLine[] {
  const joined = current.length === 0 ? [...incoming] : current.concat(incoming);
  return joined.length > max ? joined.slice(joined.length - max) : joined;
}

export function filterLines(lines: readonly LogLine[], filter: LogFilter): readonly LogLine[] {
  const needle = filter.search.trim().toLowerCase();
  if (needle === '' && filter.taskId === '') return lines;
  return lines.filter((line) => (filter.taskId === '' || line.taskId === filter.taskId) && (needle === '' || line.data.toLowerCase().includes(needle)));
}

/** How a line reads on screen: `2026-11-26T20:04:25.123Z  text` with timestamps on, the text alone otherwise. */
export function lineText(line: LogLine, timestamps: boolean): string {
  const data = line.data.endsWith('\n') ? line.data.slice(0, -1) : line.data;
  return timestamps ? `${line.timestamp}  ${data}` : data;
}
