/**
 * A state as a small coloured label, worded as swarmctl prints it; the colour is never the only cue.
 * Plain spans with the classes of TableStyles.tsx: tables render thousands of them.
 */
import { TaskState } from '../../../agent/api/objects';
import { stateName } from '../format';

type Tone = 'default' | 'success' | 'warning' | 'error' | 'info';

function taskTone(state: TaskState): Tone {
  if (state === TaskState.RUNNING) return 'success';
  if (state === TaskState.FAILED || state === TaskState.REJECTED || state === TaskState.ORPHANED) return 'error';
  if (state < TaskState.RUNNING) return 'info';
  return 'default';
}

function Chip({ tone, text }: { tone: Tone; text: string }) {
  return <span className={tone === 'default' ? 'sd-chip' : `sd-chip sd-chip-${tone}`}>{text}</span>;
}

export function TaskStateChip({ state }: { state: TaskState }) {
  return <Chip tone={taskTone(state)} text={stateName(state)} />;
}

const TEXT_TONES: Readonly<Record<string, Tone>> = {
  ready: 'success',
  active: 'success',
  leader: 'success',
  reachable: 'success',
  healthy: 'success',
  completed: 'success',
  rollback_completed: 'success',
  running: 'success',
  ok: 'success',
  done: 'success',
  down: 'error',
  unreachable: 'error',
  failed: 'error',
  disconnected: 'warning',
  drain: 'warning',
  pause: 'warning',
  paused: 'warning',
  cancelled: 'warning',
  rollback_paused: 'warning',
  converging: 'info',
  updating: 'info',
  rollback_started: 'info',
  starting: 'info',
};

export function TextChip({ text }: { text: string }) {
  if (text === '') return null;
  return <Chip tone={TEXT_TONES[text] ?? 'default'} text={text.replace('_', ' ')} />;
}

/** A button that looks like a link, for the name cell of a row (opens the object). */
export function RowLink({ onClick, children, label }: { onClick(): void; children: string; label?: string }) {
  return (
    <button type="button" className="sd-link" onClick={onClick} aria-label={label} title={children}>
      {children}
    </button>
  );
}
