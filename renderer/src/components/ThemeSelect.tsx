/** System / light / dark, saved in the settings. */
import NativeSelect from '@mui/material/NativeSelect';
import type { ThemeSetting } from '../../../electron/contract';
import { saveSettings } from '../store/cluster-sync';
import { useSettings } from '../store/hooks';
import { useNotify } from './Notifier';

export function ThemeSelect() {
  const settings = useSettings();
  const notify = useNotify();
  return (
    <NativeSelect
      value={settings.theme}
      onChange={(event) => saveSettings({ theme: event.target.value as ThemeSetting }).catch((err: unknown) => notify.error('Could not save the theme', err))}
      inputProps={{ 'aria-label': 'Theme' }}
      sx={{ color: 'inherit', '& select': { py: 0.5 }, '& svg': { color: 'inherit' }, minWidth: 90 }}
      disableUnderline
    >
      <option value="system">System theme</option>
      <option value="light">Light</option>
      <option value="dark">Dark</option>
    </NativeSelect>
  );
}
