/**
 * The pages but the Overview (the landing page, in the main bundle with the shell), and the
 * provisioning prompts shown over them: each a chunk of its own, so neither the window's first paint nor
 * a cold load to the Overview parses them. Once the shell is up and the window idle they are fetched
 * (prefetchPages), so a tab click rarely waits; a page already fetched renders without suspending.
 * Fetched at once instead, they competed with the connection and the cluster's snapshot for the main
 * thread, and a cold load to the Tasks page took longer than with one bundle.
 */
import { lazyComponent } from '../components/lazy';

export const NodesPage = lazyComponent(() => import('./NodesPage').then((m) => m.NodesPage));
export const MachinesPage = lazyComponent(() => import('./MachinesPage').then((m) => m.MachinesPage));
export const ServicesPage = lazyComponent(() => import('./ServicesPage').then((m) => m.ServicesPage));
export const ServicePage = lazyComponent(() => import('./ServicePage').then((m) => m.ServicePage));
export const TasksPage = lazyComponent(() => import('./TasksPage').then((m) => m.TasksPage));
export const ProvisionPrompts = lazyComponent(() => import('./ProvisionPrompts').then((m) => m.ProvisionPrompts));

/** Fetches every page's chunk once the window is idle (at the latest after `timeoutMs`). */
export function prefetchPages(timeoutMs = 3000): () => void {
  const handle = requestIdleCallback(
    () => {
      for (const page of [TasksPage, NodesPage, ServicesPage, ServicePage, MachinesPage, ProvisionPrompts]) void page.preload();
    },
    { timeout: timeoutMs },
  );
  return () => cancelIdleCallback(handle);
}
