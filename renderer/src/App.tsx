/** The root: theme (following the system unless set), notices, and Setup or the cluster pages. */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import CircularProgress from '@mui/material/CircularProgress';
import CssBaseline from '@mui/material/CssBaseline';
import { ThemeProvider } from '@mui/material/styles';
import useMediaQuery from '@mui/material/useMediaQuery';
import { useEffect, useMemo } from 'react';
import { NotifierProvider } from './components/Notifier';
import { TableStyles } from './components/TableStyles';
import { SetupPage } from './pages/SetupPage';
import { Shell } from './Shell';
import { startSync } from './store/cluster-sync';
import { startMachinesSync } from './store/machines-sync';
import { useConnectionError, useLocalNode, useSettings } from './store/hooks';
import { buildTheme } from './theme';

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
  if (localNode === undefined) {
    return (
      <Box sx={{ display: 'flex', justifyContent: 'center', p: 8 }}>
        <CircularProgress aria-label="Connecting to swarmdesk" />
      </Box>
    );
  }
  if (localNode.phase === 'unconfigured') return <SetupPage state={localNode} />;
  return <Shell localNode={localNode} />;
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
