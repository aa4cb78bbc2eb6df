import Box from '@mui/material/Box';
import Typography from '@mui/material/Typography';
import type { ReactNode } from 'react';

/** A page's heading (the page's h1) and its actions on the right. */
export function PageHeader({ title, children, subtitle }: { title: string; subtitle?: ReactNode; children?: ReactNode }) {
  return (
    <Box sx={{ display: 'flex', alignItems: 'center', gap: 2, mb: 2, flexWrap: 'wrap' }}>
      <Box sx={{ flex: 1, minWidth: 200 }}>
        <Typography variant="h5" component="h1">
          {title}
        </Typography>
        {subtitle && (
          <Typography variant="body2" color="text.secondary" component="div">
            {subtitle}
          </Typography>
        )}
      </Box>
      <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }}>{children}</Box>
    </Box>
  );
}

/** The flexible column a page lives in, so its table can take the remaining height. */
export function Page({ children, label }: { children: ReactNode; label: string }) {
  return (
    <Box component="section" aria-label={label} sx={{ display: 'flex', flexDirection: 'column', flex: 1, minHeight: 0, p: 2, gap: 1 }}>
      {children}
    </Box>
  );
}
