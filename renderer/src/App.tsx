/** The root: theme (following the system unless set), notices, and Setup or the cluster pages. */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import CircularProgress from '@mui/material/CircularProgress';
import CssBaseline from '@mui/material/CssBaseline';
import { ThemeProvider } from '@mui/material/styles';
import useMediaQuery from '@mui/material/useMediaQuery';
import { Suspense, useEffect, useMemo } from 'react';
import { lazyComponent } from './components/lazy';
import { NotifierProvider } from './components/Notifier';
import { TableStyles } from './components/TableStyles';
import { Shell } from './Shell';
import { startSync } from './store/cluster-sync';
import { startMachinesSync } from './store/machines-sync';
import { useConnectionError, useLocalNode, useSettings } from './store/hooks';
import { buildTheme } from './theme';

// Setup (shown once) and the pages behind the shell's tabs (pages/lazy-pages.tsx) are chunks of their own.
const SetupPage = lazyComponent(() => import('./pages/SetupPage').then((m) => m.SetupPage));

function Connecting() {
  return (
    <Box sx={{ display: 'flex', justifyContent: 'center', p: 8 }}>
      <CircularProgress aria-label="Connecting to swarmdesk" />
    </Box>
  );
}

function Content() {
  const localNode = useLocalNode();
  const connectionError = useConnectionError();
  if (connectionError !== undefined) {
    return (
      <Box sx={{ p: 4 }}>
        <Alert severity="error" role="alert">{`Cannot reach swarmdesk: ${connectionError}`}</Alert>
      </Box>
    );
  }
  if (localNode === undefined) return <Connecting />;
  return <Suspense fallback={<Connecting />}>{localNode.phase === 'unconfigured' ? <SetupPage state={localNode} /> : <Shell localNode={localNode} />}</Suspense>;
}

export function App() {
  const settings = useSettings();
  const systemDark = useMediaQuery('(prefers-color-scheme: dark)');
  const mode = settings.theme === 'system' ? (systemDark ? 'dark' : 'light') : settings.theme;
  const theme = useMemo(() => buildTheme(mode), [mode]);
  useEffect(startSync, []);
  useEffect(startMachinesSync, []);
  useEffect(() => {
    document.documentElement.dataset.theme = mode;
  }, [mode]);
  return (
    <ThemeProvider theme={theme}>
      <CssBaseline enableColorScheme />
      <TableStyles />
      <NotifierProvider>
        <Content />
      </NotifierProvider>
    </ThemeProvider>
  );
}
