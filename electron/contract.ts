/**
 * The one IPC contract between the renderer and the main process. The main process registers a handler
 * for every key of `SwarmdeskApi`, the preload exposes exactly this interface, and the renderer imports
 * only these types. It grows with the desktop-app issue; for now it carries the app's identity.
 */
export interface AppInfo {
  name: string;
  version: string;
  platform: string;
}

export interface SwarmdeskApi {
  getAppInfo(): Promise<AppInfo>;
}

export const IPC_CHANNELS: { readonly [K in keyof SwarmdeskApi]: string } = {
  getAppInfo: 'swarmdesk:getAppInfo',
};
