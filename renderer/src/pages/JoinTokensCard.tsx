/** The worker and manager join tokens: copy the token or the whole `swarmd` command; rotate with confirmation. */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Typography from '@mui/material/Typography';
import { useCallback, useEffect, useState } from 'react';
import type { JoinTokensView } from '../../../electron/contract';
import type { NodeRole } from '../../../agent/api/objects';
import { swarmdesk } from '../api';
import { CopyButton } from '../components/CopyButton';
import { lazyComponent, WhenFirstOpen } from '../components/lazy';
import { useNotify } from '../components/Notifier';
import { errorMessage } from '../format';
import { useLocalNode } from '../store/hooks';

const ConfirmDialog = lazyComponent(() => import('../components/ConfirmDialog').then((m) => m.ConfirmDialog));

const TITLES: Readonly<Record<NodeRole, string>> = { worker: 'Worker', manager: 'Manager' };

function TokenRow({ role, tokens, onRotate }: { role: NodeRole; tokens: JoinTokensView | undefined; onRotate(): void }) {
  const token = tokens?.[role] ?? '';
  const command = (role === 'worker' ? tokens?.workerCommand : tokens?.managerCommand) ?? '';
  return (
    <Box component="section" aria-label={`${TITLES[role]} join token`} sx={{ py: 1 }}>
      <Typography variant="subtitle2" component="h3">
        {`${TITLES[role]} join token`}
      </Typography>
      <Box
        component="code"
        data-testid={`${role}-token`}
        sx={{ display: 'block', fontFamily: 'monospace', fontSize: '0.8rem', overflowWrap: 'anywhere', py: 0.5, userSelect: 'all' }}
      >
        {token || '…'}
      </Box>
      <Box
        component="code"
        data-testid={`${role}-join-command`}
        sx={{ display: 'block', fontFamily: 'monospace', fontSize: '0.75rem', color: 'text.secondary', overflowWrap: 'anywhere', pb: 1, userSelect: 'all' }}
      >
        {command}
      </Box>
      <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }}>
        <CopyButton text={token} label={`Copy ${role} token`} what={`${TITLES[role]} token`} />
        <CopyButton text={command} label={`Copy ${role} join command`} what={`${TITLES[role]} join command`} />
        <Button size="small" color="warning" onClick={onRotate} disabled={tokens === undefined}>
          {`Rotate ${role} token`}
        </Button>
      </Box>
    </Box>
  );
}

export function JoinTokensCard() {
  const [tokens, setTokens] = useState<JoinTokensView | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [rotating, setRotating] = useState<NodeRole | undefined>();
  /** Kept while the dialog closes, so its title does not change during the transition. */
  const [lastRotated, setLastRotated] = useState<NodeRole>('worker');
  const notify = useNotify();
  // Read again once the local manager runs: right after Setup the page shows while it is still starting.
  const running = useLocalNode()?.phase === 'running';

  const load = useCallback(() => {
    swarmdesk.getJoinTokens().then(
      (view) => {
        setTokens(view);
        setError(undefined);
      },
      (err: unknown) => setError(`Could not read the join tokens: ${errorMessage(err)}`),
    );
  }, []);
  useEffect(() => {
    if (running) load();
  }, [load, running]);

  return (
    <Card variant="outlined" component="section" aria-label="Join tokens" data-testid="join-tokens">
      <CardContent>
        <Typography variant="overline" component="h2" color="text.secondary">
          Join tokens
        </Typography>
        {error && (
          <Alert severity="error" role="alert" action={<Button onClick={load}>Retry</Button>}>
            {error}
          </Alert>
        )}
        <TokenRow role="worker" tokens={tokens} onRotate={() => {
            setRotating('worker');
            setLastRotated('worker');
          }} />
        <TokenRow role="manager" tokens={tokens} onRotate={() => {
            setRotating('manager');
            setLastRotated('manager');
          }} />
        {tokens && tokens.managerAddresses.length > 0 && (
          <Typography variant="body2" color="text.secondary">
            {`Managers to join through: ${tokens.managerAddresses.join(', ')}`}
          </Typography>
        )}
      </CardContent>
      <WhenFirstOpen when={rotating !== undefined}>
        <ConfirmDialog
          open={rotating !== undefined}
          title={`Rotate the ${lastRotated} join token?`}
          confirmLabel="Rotate"
          danger
          onClose={() => setRotating(undefined)}
          onConfirm={async () => {
            if (rotating === undefined) return;
            setTokens(await swarmdesk.rotateJoinToken({ role: rotating }));
            notify.success(`The ${rotating} join token was rotated`);
          }}
        >
          The current token stops working at once: machines that have not joined yet need the new one. Nodes already in the cluster are not affected.
        </ConfirmDialog>
      </WhenFirstOpen>
    </Card>
  );
}
