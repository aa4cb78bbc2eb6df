import type { SwarmdeskApi } from '../../electron/contract';

declare global {
  interface Window {
    swarmdesk: SwarmdeskApi;
  }
}

/** The preload's API: the renderer's only way to reach the main process. */
export const swarmdesk: SwarmdeskApi = window.swarmdesk;
