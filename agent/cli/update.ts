/**
 * Read-modify-write for updates. The control API takes a whole spec plus the version it was read at,
 * and refuses a stale version with Conflict; swarmctl then reads the object again, re-applies the
 * user's change to the fresh spec and tries again, a few times.
 */
import { isApiError } from '../api/errors';
import type { Meta } from '../api/objects';
import { CliError } from './context';

export const UPDATE_ATTEMPTS = 5;

export interface ReadModifyWrite<T extends { id: string; meta: Meta; spec: S }, S> {
  /** What the object is called in messages (`node mgmt-01`). */
  subject: string;
  /** The object as already read (the first attempt uses it). */
  current: T;
  read(id: string): Promise<T>;
  /** The new spec, from a private copy of the current one; throws (a CliError) if nothing would change. */
  change(spec: S, current: T): S;
  write(current: T, spec: S): Promise<T>;
}

export async function readModifyWrite<T extends { id: string; meta: Meta; spec: S }, S>(update: ReadModifyWrite<T, S>): Promise<T> {
  let current = update.current;
  for (let attempt = 1; ; attempt++) {
    const spec = update.change(structuredClone(current.spec), current);
    try {
      return await update.write(current, spec);
    } catch (err) {
      if (!isApiError(err, 'Conflict')) throw err;
      if (attempt >= UPDATE_ATTEMPTS) {
        throw new CliError(`${update.subject} kept changing while it was being updated (${attempt} attempts); try again`);
      }
      current = await update.read(current.id);
    }
  }
}
