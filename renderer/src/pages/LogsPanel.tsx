/**
 * A service's logs: startLogs, then `logs` events for that subscription until stopLogs (on leaving,
 * or when the task filter or follow changes). Search filters what is loaded; the list is virtualized.
 */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import FormControlLabel from '@mui/material/FormControlLabel';
import Paper from '@mui/material/Paper';
import Switch from '@mui/material/Switch';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { LogLine, ServiceView, Task } from '../../../electron/contract';
import { swarmdesk } from '../api';
import { useNotify } from '../components/Notifier';
import { SelectInput } from '../forms/fields';
import { errorMessage, taskName } from '../format';
import { onAppEvent, saveSettings } from '../store/cluster-sync';
import { useSettings } from '../store/hooks';
import { appendLines, filterLines, lineText } from '../store/log-buffer';

const TAIL = 1000;
const LINE_HEIGHT = 20;

/** Subscribes while mounted; returns the lines, and how the stream ended if it did. */
function useLogStream(serviceId: string, taskId: string, follow: boolean): { lines: LogLine[]; ended: string | undefined; error: string | undefined } {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [ended, setEnded] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    let subscriptionId: string | undefined;
    let closed = false;
    /** Events can arrive before startLogs answers with the subscription's ID. */
    const early: { id: string; lines: LogLine[] }[] = [];
    setLines([]);
    setEnded(undefined);
    setError(undefined);
    const stop = onAppEvent((event) => {
      if (event.kind === 'logs') {
        if (subscriptionId === undefined) early.push({ id: event.subscriptionId, lines: event.lines });
        else if (event.subscriptionId === subscriptionId) setLines((current) => appendLines(current, event.lines));
      } else if (event.kind === 'logs-end' && event.subscriptionId === subscriptionId) {
        setEnded(event.error ? `The log stream ended: ${event.error.message}` : follow ? 'The log stream ended.' : undefined);
      }
    });
    swarmdesk.startLogs({ serviceId, taskId: taskId === '' ? undefined : taskId, follow, tail: TAIL }).then(
      (answer) => {
        if (closed) {
          void swarmdesk.stopLogs({ subscriptionId: answer.subscriptionId }).catch(() => undefined);
          return;
        }
        subscriptionId = answer.subscriptionId;
        const mine = early.filter((entry) => entry.id === answer.subscriptionId).flatMap((entry) => entry.lines);
        if (mine.length > 0) setLines((current) => appendLines(current, mine));
      },
      (err: unknown) => setError(`Could not read the logs: ${errorMessage(err)}`),
    );
    return () => {
      closed = true;
      stop();
      // A stream that already ended is gone on the server too; stopping it again is harmless.
      if (subscriptionId !== undefined) void swarmdesk.stopLogs({ subscriptionId }).catch(() => undefined);
    };
  }, [serviceId, taskId, follow]);
  return { lines, ended, error };
}

export function LogsPanel({ service, tasks }: { service: ServiceView; tasks: readonly Task[] }) {
  const settings = useSettings();
  const notify = useNotify();
  const [follow, setFollow] = useState(true);
  const [search, setSearch] = useState('');
  const [taskId, setTaskId] = useState('');
  const { lines, ended, error } = useLogStream(service.id, taskId, follow);
  const shown = useMemo(() => filterLines(lines, { search, taskId: '' }), [lines, search]);
  const names = useMemo(() => new Map(tasks.map((task) => [task.id, taskName(task)])), [tasks]);
  const taskOptions = useMemo(() => [['', 'All tasks'] as [string, string], ...tasks.map((task): [string, string] => [task.id, `${taskName(task)} (${task.id.slice(0, 8)})`])], [tasks]);

  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({ count: shown.length, getScrollElement: () => scrollRef.current, estimateSize: () => LINE_HEIGHT, overscan: 30 });
  /** Following sticks to the newest line unless the reader has scrolled up to look at older ones. */
  const atBottom = useRef(true);
  useEffect(() => {
    if (follow && atBottom.current && shown.length > 0) virtualizer.scrollToIndex(shown.length - 1, { align: 'end' });
  }, [follow, shown.length, virtualizer]);
  const onScroll = () => {
    const element = scrollRef.current;
    if (element) atBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < LINE_HEIGHT * 2;
  };

  const setTimestamps = (logTimestamps: boolean) => saveSettings({ logTimestamps }).catch((err: unknown) => notify.error('Could not save the setting', err));

  return (
    <Box sx={{ display: 'flex', flexDirection: 'column', flex: 1, minHeight: 0, gap: 1 }} data-testid="logs">
      <Box sx={{ display: 'flex', gap: 2, alignItems: 'center', flexWrap: 'wrap' }}>
        <TextField size="small" label="Search logs" value={search} onChange={(event) => setSearch(event.target.value)} sx={{ minWidth: 240 }} />
        <Box sx={{ minWidth: 240 }}>
          <SelectInput label="Task" value={taskId} options={taskOptions} onChange={setTaskId} />
        </Box>
        <FormControlLabel control={<Switch checked={follow} onChange={(event) => setFollow(event.target.checked)} />} label="Follow" />
        <FormControlLabel control={<Switch checked={settings.logTimestamps} onChange={(event) => void setTimestamps(event.target.checked)} />} label="Timestamps" />
        <Typography variant="body2" color="text.secondary" aria-live="polite">
          {search ? `${shown.length} of ${lines.length} lines` : `${lines.length} lines`}
        </Typography>
      </Box>
      {error && (
        <Alert severity="error" role="alert">
          {error}
        </Alert>
      )}
      {ended && <Alert severity="info">{ended}</Alert>}
      <Paper
        variant="outlined"
        ref={scrollRef}
        role="log"
        aria-label={`Logs of ${service.spec.name}`}
        tabIndex={0}
        onScroll={onScroll}
        sx={{ flex: 1, minHeight: 200, overflow: 'auto', fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace', fontSize: '0.8rem' }}
      >
        <Box sx={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {virtualizer.getVirtualItems().map((item) => {
            const line = shown[item.index];
            return (
              <Box
                key={item.key}
                data-testid="log-line"
                sx={{
                  position: 'absolute',
                  top: 0,
                  left: 0,
                  right: 0,
                  height: LINE_HEIGHT,
                  transform: `translateY(${item.start}px)`,
                  whiteSpace: 'pre',
                  px: 1,
                  color: line.stream === 'stderr' ? 'error.main' : undefined,
                }}
              >
                {taskId === '' && (
                  <Box component="span" sx={{ color: 'text.secondary', mr: 1 }}>
                    {names.get(line.taskId) ?? line.taskId.slice(0, 8)}
                  </Box>
                )}
                {lineText(line, settings.logTimestamps)}
              </Box>
            );
          })}
        </Box>
      </Paper>
    </Box>
  );
}
