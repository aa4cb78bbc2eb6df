import { useEffect, useState } from 'react';
import type { AppInfo } from '../../electron/contract';
import { swarmdesk } from './api';

export function App() {
  const [info, setInfo] = useState<AppInfo | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    swarmdesk.getAppInfo().then(setInfo, (e: unknown) => setError(String(e)));
  }, []);
  return (
    <main>
      <h1>swarmdesk</h1>
      {info && <p>{`${info.name} ${info.version} on ${info.platform} (${info.mode})`}</p>}
      {error && <p role="alert">{error}</p>}
    </main>
  );
}
