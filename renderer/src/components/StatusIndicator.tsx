/** The local node's phase in the app bar: what this machine's manager is doing right now. */
import Chip from '@mui/material/Chip';
import Tooltip from '@mui/material/Tooltip';
import type { LocalNodeState } from '../../../electron/contract';
import { useSyncPhase } from '../store/hooks';

const TONES = { unconfigured: 'default', starting: 'info', running: 'success', stopping: 'warning', stopped: 'warning', failed: 'error' } as const;

export function StatusIndicator({ state }: { state: LocalNodeState | undefined }) {
  const sync = useSyncPhase();
  const phase = state?.phase ?? 'starting';
  const live = phase === 'running' && sync !== 'live' ? ` (${sync === 'error' ? 'not synced' : 'syncing'})` : '';
  // A running node whose cluster view failed to load (e.g. it was demoted) is not all well: the chip
  // warns, as its text does, rather than stay green.
  const tone = phase === 'running' && sync === 'error' ? 'warning' : TONES[phase];
  const detail = [state?.role && `role ${state.role}`, state?.advertiseAddress, state?.message].filter(Boolean).join(' · ');
  return (
    <Tooltip title={detail || phase}>
      <Chip
        role="status"
        aria-label={`Local node: ${phase}${live}`}
        data-testid="local-node-status"
        color={tone}
        variant="filled"
        size="small"
        label={`${phase}${live}`}
      />
    </Tooltip>
  );
}
