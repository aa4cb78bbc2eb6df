/**
 * The settings file: electron-store inside Electron, `conf` (what electron-store is built on, same
 * format and atomic writes) elsewhere — browser mode, and tests where `electron` is a stub. Either way
 * the file is <home>/settings.json.
 */
import Conf from 'conf';
import type { SettingsBackend } from './settings';

type Store = Pick<Conf<Record<string, unknown>>, 'get' | 'set' | 'delete' | 'path'>;

function adapt(store: Store): SettingsBackend {
  return {
    get: (key) => store.get(key),
    set: (key, value) => store.set(key, value),
    delete: (key) => store.delete(key),
    get path() {
      return store.path;
    },
  };
}

export async function openSettingsBackend(home: string): Promise<SettingsBackend> {
  if (process.versions.electron !== undefined) {
    const { default: ElectronStore } = await import('electron-store');
    return adapt(new ElectronStore<Record<string, unknown>>({ cwd: home, name: 'settings' }));
  }
  return adapt(new Conf<Record<string, unknown>>({ cwd: home, configName: 'settings' }));
}
