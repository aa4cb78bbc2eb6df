/** A state as a small coloured label, worded as swarmctl prints it; the colour is never the only cue. */
import Chip from '@mui/material/Chip';
import { TaskState } from '../../../agent/api/objects';
import { stateName } from '../format';

type Tone = 'default' | 'success' | 'warning' | 'error' | 'info';

function taskTone(state: TaskState): Tone {
  if (state === TaskState.RUNNING) return 'success';
  if (state === TaskState.FAILED || state === TaskState.REJECTED || state === TaskState.ORPHANED) return 'error';
  if (state < TaskState.RUNNING) return 'info';
  return 'default';
}

export function TaskStateChip({ state }: { state: TaskState }) {
  return <Chip size="small" variant="outlined" color={taskTone(state)} label={stateName(state)} />;
}

const TEXT_TONES: Readonly<Record<string, Tone>> = {
  ready: 'success',
  active: 'success',
  leader: 'success',
  reachable: 'success',
  healthy: 'success',
  completed: 'success',
  running: 'success',
  down: 'error',
  unreachable: 'error',
  failed: 'error',
  disconnected: 'warning',
  drain: 'warning',
  pause: 'warning',
  paused: 'warning',
  rollback_paused: 'warning',
  converging: 'info',
  updating: 'info',
  rollback_started: 'info',
  starting: 'info',
};

export function TextChip({ text }: { text: string }) {
  if (text === '') return null;
  return <Chip size="small" variant="outlined" color={TEXT_TONES[text] ?? 'default'} label={text.replace('_', ' ')} />;
}
