/**
 * The pages (and the provisioning prompts shown over them), each a chunk of its own: the window's first
 * paint waits only for the shell, and a page's code is parsed when it is first shown — or earlier, when
 * the window is idle (prefetchPages), so a tab click rarely waits for it.
 */
import { lazyComponent } from '../components/lazy';

const loaders = {
  overview: () => import('./OverviewPage').then((m) => m.OverviewPage),
  nodes: () => import('./NodesPage').then((m) => m.NodesPage),
  machines: () => import('./MachinesPage').then((m) => m.MachinesPage),
  services: () => import('./ServicesPage').then((m) => m.ServicesPage),
  service: () => import('./ServicePage').then((m) => m.ServicePage),
  tasks: () => import('./TasksPage').then((m) => m.TasksPage),
  provisionPrompts: () => import('./ProvisionPrompts').then((m) => m.ProvisionPrompts),
};

export const OverviewPage = lazyComponent(loaders.overview);
export const NodesPage = lazyComponent(loaders.nodes);
export const MachinesPage = lazyComponent(loaders.machines);
export const ServicesPage = lazyComponent(loaders.services);
export const ServicePage = lazyComponent(loaders.service);
export const TasksPage = lazyComponent(loaders.tasks);
export const ProvisionPrompts = lazyComponent(loaders.provisionPrompts);

/** Loads every page's chunk once the window has nothing else to do (the module cache keeps them). */
export function prefetchPages(): () => void {
  const handle = requestIdleCallback(() => {
    for (const load of Object.values(loaders)) void load();
  });
  return () => cancelIdleCallback(handle);
}
