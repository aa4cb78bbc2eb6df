/**
 * Code split at the point of use: pages, dialogs, drawers and forms that the first paint does not need
 * are loaded (a chunk of their own) the first time they are shown, so the bundle the window parses
 * before anything appears holds only the shell.
 */
import CircularProgress from '@mui/material/CircularProgress';
import Box from '@mui/material/Box';
import { lazy, Suspense, useState, type ComponentType, type ReactNode } from 'react';

/** A component whose code is loaded on first render, or before with preload(). */
export type LazyComponent<P extends object> = ComponentType<P> & {
  /** Fetches its chunk now; once loaded it renders without suspending. */
  preload(): Promise<void>;
};

/**
 * `lazyComponent(() => import('./X').then((m) => m.X))`. Unlike React.lazy alone, a component already
 * loaded (preloaded) renders at once: React.lazy suspends on its first render whatever the state of its
 * import, and once a fallback has been shown React 19 holds the content back for up to 300 ms (it
 * throttles Suspense reveals), which is what a preload is meant to save.
 */
export function lazyComponent<P extends object>(load: () => Promise<ComponentType<P>>): LazyComponent<P> {
  let loaded: ComponentType<P> | undefined;
  const preload = async () => {
    loaded ??= await load();
  };
  const Lazy = lazy(async () => {
    await preload();
    return { default: loaded as ComponentType<P> };
  });
  const Component = (props: P) => {
    // Chosen once per instance: switching from Lazy to the loaded component later would remount it.
    const [Chosen] = useState<ComponentType<P>>(() => loaded ?? Lazy);
    return <Chosen {...props} />;
  };
  return Object.assign(Component, { preload });
}

/** While a page's chunk loads (milliseconds from disk or loopback): a quiet spinner where the page goes. */
export function PageSuspense({ children }: { children: ReactNode }) {
  return (
    <Suspense
      fallback={
        <Box sx={{ display: 'flex', justifyContent: 'center', p: 8 }}>
          <CircularProgress aria-label="Loading the page" />
        </Box>
      }
    >
      {children}
    </Suspense>
  );
}

/**
 * Renders a lazily loaded dialog or drawer from the first time `when` is true on (and keeps it mounted
 * after, so its closing transition still plays); nothing is loaded for one never opened.
 */
export function WhenFirstOpen({ when, children }: { when: boolean; children: ReactNode }) {
  const [opened, setOpened] = useState(when);
  if (when && !opened) setOpened(true);
  return opened ? <Suspense fallback={null}>{children}</Suspense> : null;
}
