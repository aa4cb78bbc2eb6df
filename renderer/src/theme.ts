/** Light and dark themes; both show a clear outline on whatever has keyboard focus. */
import { createTheme, type Theme } from '@mui/material/styles';

export function buildTheme(mode: 'light' | 'dark'): Theme {
  const theme = createTheme({
    palette: { mode, primary: { main: mode === 'dark' ? '#7ab7ff' : '#1565c0' } },
    typography: { fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif' },
    shape: { borderRadius: 6 },
  });
  const focusRing = { outline: `2px solid ${theme.palette.primary.main}`, outlineOffset: 2 };
  return createTheme(theme, {
    components: {
      MuiButtonBase: { defaultProps: { disableRipple: false }, styleOverrides: { root: { '&.Mui-focusVisible': focusRing } } },
      MuiLink: { styleOverrides: { root: { '&:focus-visible': focusRing } } },
      MuiTab: { styleOverrides: { root: { '&.Mui-focusVisible': { ...focusRing, outlineOffset: -2 } } } },
    },
  });
}
