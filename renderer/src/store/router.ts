/**
 * Which page shows. Kept in memory rather than in the URL: browser mode's URL fragment carries the
 * access token, and the desktop app has no address bar.
 */
import { useSyncExternalStore } from 'react';
import { createValueStore } from './value-store';

export type Route =
  | { page: 'overview' }
  | { page: 'nodes'; nodeId?: string }
  | { page: 'machines' }
  | { page: 'services' }
  | { page: 'service'; serviceId: string; tab?: 'tasks' | 'progress' | 'logs' }
  | { page: 'tasks'; serviceId?: string; nodeId?: string };

export type TopPage = 'overview' | 'nodes' | 'machines' | 'services' | 'tasks';

const routeStore = createValueStore<Route>({ page: 'overview' });

export function navigate(route: Route): void {
  routeStore.set(route);
}

export function useRoute(): Route {
  return useSyncExternalStore(routeStore.subscribe, routeStore.get);
}

/** The top-level tab a route belongs to. */
export function topPage(route: Route): TopPage {
  return route.page === 'service' ? 'services' : route.page;
}
