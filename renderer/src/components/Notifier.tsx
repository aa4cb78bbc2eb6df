/**
 * Every result the user should know about, success or failure, as a snackbar. Failures keep their
 * reason (the server's message and code) and stay until dismissed or replaced: the newest notice is
 * the one shown, so an old failure never hides what just happened.
 */
import Alert from '@mui/material/Alert';
import Snackbar from '@mui/material/Snackbar';
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { errorMessage } from '../format';

interface Notice {
  id: number;
  severity: 'success' | 'error' | 'info';
  message: string;
}

export interface Notify {
  success(message: string): void;
  info(message: string): void;
  /** `what` says what failed ("Could not drain node-1"); the error supplies why. */
  error(what: string, err?: unknown): void;
}

const NotifyContext = createContext<Notify | undefined>(undefined);

export function useNotify(): Notify {
  const notify = useContext(NotifyContext);
  if (notify === undefined) throw new Error('useNotify outside NotifierProvider');
  return notify;
}

let nextId = 1;

export function NotifierProvider({ children }: { children: ReactNode }) {
  const [current, setCurrent] = useState<Notice | undefined>();
  const push = useCallback((severity: Notice['severity'], message: string) => setCurrent({ id: nextId++, severity, message }), []);
  const notify = useMemo<Notify>(
    () => ({
      success: (message) => push('success', message),
      info: (message) => push('info', message),
      error: (what, err) => push('error', err === undefined ? what : `${what}: ${errorMessage(err)}`),
    }),
    [push],
  );
  const dismiss = () => setCurrent(undefined);
  return (
    <NotifyContext.Provider value={notify}>
      {children}
      <Snackbar
        key={current?.id}
        open={current !== undefined}
        autoHideDuration={current?.severity === 'error' ? null : 4000}
        onClose={(_event, reason) => {
          if (reason !== 'clickaway') dismiss();
        }}
        anchorOrigin={{ vertical: 'bottom', horizontal: 'center' }}
      >
        {current ? (
          <Alert severity={current.severity} variant="filled" onClose={dismiss} data-testid="notice" sx={{ maxWidth: 720, whiteSpace: 'pre-wrap' }}>
            {current.message}
          </Alert>
        ) : undefined}
      </Snackbar>
    </NotifyContext.Provider>
  );
}
