/**
 * Where swarmdesk keeps its data: SWARMDESK_HOME when set (so several instances and tests can run side
 * by side), else Electron's userData folder (desktop) or ~/.swarmdesk (browser mode, no Electron).
 * The in-process node's state lives in <home>/node.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function dataHome(fallback?: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.SWARMDESK_HOME;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return resolve(fromEnv);
  return resolve(fallback ?? join(homedir(), '.swarmdesk'));
}

export function nodeStateDir(home: string): string {
  return join(home, 'node');
}
