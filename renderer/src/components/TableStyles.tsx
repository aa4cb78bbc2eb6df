/**
 * Plain CSS classes for what tables repeat thousands of times (rows, cells, state labels, row links).
 * Emotion's `sx` costs milliseconds per element per render, far too much for a table updated by a
 * burst of changes, so these are global classes written once per theme.
 */
import GlobalStyles from '@mui/material/GlobalStyles';
import type { Theme } from '@mui/material/styles';

const TONES = ['success', 'warning', 'error', 'info'] as const;

function styles(theme: Theme) {
  const chips = Object.fromEntries(TONES.map((tone) => [`.sd-chip-${tone}`, { color: theme.palette[tone].main, borderColor: theme.palette[tone].main }]));
  return {
    '.sd-table-head': {
      position: 'sticky',
      top: 0,
      zIndex: 1,
      background: theme.palette.background.paper,
      borderBottom: `1px solid ${theme.palette.divider}`,
    },
    '.sd-row': {
      position: 'absolute',
      top: 0,
      left: 0,
      right: 0,
      display: 'grid',
      alignItems: 'center',
      borderBottom: `1px solid ${theme.palette.divider}`,
      fontSize: '0.875rem',
      '&:hover': { background: theme.palette.action.hover },
      '&[aria-selected="true"]': { background: theme.palette.action.selected },
    },
    '.sd-head-row': { display: 'grid', alignItems: 'center', height: 40 },
    '.sd-cell': { padding: '0 8px', overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap', display: 'flex', alignItems: 'center', gap: 4, minWidth: 0 },
    '.sd-head-cell': { fontWeight: 600, fontSize: '0.85rem', color: theme.palette.text.secondary },
    '.sd-chip': {
      display: 'inline-block',
      padding: '1px 8px',
      borderRadius: 12,
      border: `1px solid ${theme.palette.divider}`,
      fontSize: '0.75rem',
      lineHeight: '18px',
      whiteSpace: 'nowrap',
      color: theme.palette.text.primary,
    },
    ...chips,
    '.sd-link': {
      font: 'inherit',
      color: theme.palette.primary.main,
      background: 'none',
      border: 0,
      padding: 0,
      cursor: 'pointer',
      textDecoration: 'underline',
      textAlign: 'left',
      overflow: 'hidden',
      textOverflow: 'ellipsis',
      whiteSpace: 'nowrap',
      '&:focus-visible': { outline: `2px solid ${theme.palette.primary.main}`, outlineOffset: 2, borderRadius: 2 },
    },
    '.sd-mono': { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace', fontSize: '0.8rem' },
  } as const;
}

export function TableStyles() {
  return <GlobalStyles styles={styles} />;
}
