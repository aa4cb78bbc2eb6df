/** The cluster pages: an app bar with the page tabs, the local node's status and the theme; one page below. */
import Alert from '@mui/material/Alert';
import AppBar from '@mui/material/AppBar';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Tab from '@mui/material/Tab';
import Tabs from '@mui/material/Tabs';
import Toolbar from '@mui/material/Toolbar';
import Typography from '@mui/material/Typography';
import { Suspense, useEffect } from 'react';
import type { LocalNodeState } from '../../electron/contract';
import { PageSuspense } from './components/lazy';
import { StatusIndicator } from './components/StatusIndicator';
import { ThemeSelect } from './components/ThemeSelect';
import { MachinesPage, NodesPage, prefetchPages, ProvisionPrompts, ServicePage, ServicesPage, TasksPage } from './pages/lazy-pages';
import { OverviewPage } from './pages/OverviewPage';
import { resubscribe } from './store/cluster-sync';
import { useSyncError, useSyncPhase } from './store/hooks';
import { navigate, topPage, useRoute, type Route, type TopPage } from './store/router';

const PAGES: readonly (readonly [TopPage, string])[] = [
  ['overview', 'Overview'],
  ['nodes', 'Nodes'],
  ['machines', 'Machines'],
  ['services', 'Services'],
  ['tasks', 'Tasks'],
];

function CurrentPage({ route }: { route: Route }) {
  switch (route.page) {
    case 'overview':
      return <OverviewPage />;
    case 'nodes':
      return <NodesPage nodeId={route.nodeId} />;
    case 'machines':
      return <MachinesPage />;
    case 'services':
      return <ServicesPage />;
    case 'service':
      return <ServicePage key={route.serviceId} serviceId={route.serviceId} tab={route.tab} />;
    case 'tasks':
      return <TasksPage key={`${route.serviceId ?? ''}/${route.nodeId ?? ''}`} initial={{ serviceId: route.serviceId ?? '', nodeId: route.nodeId ?? '' }} />;
  }
}

function LocalNodeBanner({ state }: { state: LocalNodeState }) {
  if (state.phase === 'running') {
    if (state.runTasks && state.engine && !state.engine.reachable) {
      return <Alert severity="warning">{`This machine should run tasks, but its Docker Engine is not reachable${state.engine.message ? `: ${state.engine.message}` : ''}.`}</Alert>;
    }
    return null;
  }
  const text: Record<Exclude<LocalNodeState['phase'], 'running' | 'unconfigured'>, string> = {
    starting: 'The local manager is starting…',
    stopping: 'The local manager is stopping.',
    stopped: 'The local manager is stopped: what you see may be out of date.',
    failed: 'The local manager failed',
  };
  if (state.phase === 'unconfigured') return null;
  return (
    <Alert severity={state.phase === 'failed' ? 'error' : 'info'} role={state.phase === 'failed' ? 'alert' : 'status'}>
      {state.message ? `${text[state.phase]}: ${state.message}` : text[state.phase]}
    </Alert>
  );
}

function SyncBanner() {
  const phase = useSyncPhase();
  const error = useSyncError();
  if (phase !== 'error') return null;
  return (
    <Alert severity="error" role="alert" action={<Button onClick={resubscribe}>Retry</Button>}>
      {`Could not load the cluster: ${error ?? 'unknown error'}`}
    </Alert>
  );
}

export function Shell({ localNode }: { localNode: LocalNodeState }) {
  const route = useRoute();
  const current = topPage(route);
  useEffect(prefetchPages, []);
  return (
    <Box sx={{ display: 'flex', flexDirection: 'column', height: '100vh' }}>
      <AppBar position="static" color="default" elevation={1}>
        <Toolbar variant="dense" sx={{ gap: 2 }}>
          <Typography variant="h6" component="div" sx={{ mr: 2 }}>
            swarmdesk
          </Typography>
          {/* onClick on each tab rather than onChange: a click on the current tab leaves a service's page for the list. */}
          <Tabs component="nav" value={current} aria-label="Pages" sx={{ flex: 1 }}>
            {PAGES.map(([page, label]) => (
              <Tab key={page} value={page} label={label} id={`page-tab-${page}`} aria-controls="page" onClick={() => navigate({ page })} />
            ))}
          </Tabs>
          <StatusIndicator state={localNode} />
          <ThemeSelect />
        </Toolbar>
      </AppBar>
      <LocalNodeBanner state={localNode} />
      <SyncBanner />
      <Box component="main" id="page" role="tabpanel" aria-labelledby={`page-tab-${current}`} sx={{ display: 'flex', flexDirection: 'column', flex: 1, minHeight: 0, overflow: 'auto' }}>
        <PageSuspense>
          <CurrentPage route={route} />
        </PageSuspense>
      </Box>
      <Suspense fallback={null}>
        <ProvisionPrompts />
      </Suspense>
    </Box>
  );
}
