/**
 * Code split at the point of use: pages, dialogs, drawers and forms that the first paint does not need
 * are loaded (a chunk of their own) the first time they are shown, so the bundle the window parses
 * before anything appears holds only the shell.
 */
import CircularProgress from '@mui/material/CircularProgress';
import Box from '@mui/material/Box';
import { lazy, Suspense, useState, type ComponentType, type LazyExoticComponent, type ReactNode } from 'react';

/** A component loaded on first render: `lazyComponent(() => import('./X').then((m) => m.X))`. */
export function lazyComponent<P extends object>(load: () => Promise<ComponentType<P>>): LazyExoticComponent<ComponentType<P>> {
  return lazy(async () => ({ default: await load() }));
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
