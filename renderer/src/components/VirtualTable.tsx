/**
 * A table that renders only the rows in view (@tanstack/react-virtual), so 10,000 tasks stay fast.
 * It is an ARIA table (role table/row/cell with aria-rowcount and aria-rowindex), each row named after
 * its object (`getByRole('row', { name: 'web' })`), laid out with CSS grid so header and rows align.
 */
import Box from '@mui/material/Box';
import Paper from '@mui/material/Paper';
import Typography from '@mui/material/Typography';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useRef, type ReactNode } from 'react';

export interface Column<T> {
  key: string;
  header: string;
  /** A CSS grid track: `120px`, `1fr`, `minmax(160px, 2fr)`. */
  width: string;
  render(row: T): ReactNode;
}

export interface VirtualTableProps<T> {
  /** The table's accessible name ("Nodes"). */
  label: string;
  rows: readonly T[];
  columns: readonly Column<T>[];
  rowKey(row: T): string;
  /** The row's accessible name: the object's name. */
  rowName(row: T): string;
  rowHeight?: number;
  /** Shown instead of rows when there are none. */
  emptyText: string;
  /** Smallest width before the table scrolls sideways. */
  minWidth?: number;
  testId?: string;
  selectedKey?: string;
}

export function VirtualTable<T>({ label, rows, columns, rowKey, rowName, rowHeight = 44, emptyText, minWidth = 900, testId, selectedKey }: VirtualTableProps<T>) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => rowHeight,
    overscan: 12,
    getItemKey: (index) => rowKey(rows[index]),
  });
  const template = columns.map((column) => column.width).join(' ');
  const cellSx = { px: 1, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap', display: 'flex', alignItems: 'center', gap: 0.5, minWidth: 0 } as const;
  return (
    <Paper variant="outlined" sx={{ display: 'flex', flexDirection: 'column', flex: 1, minHeight: 240, overflow: 'hidden' }}>
      <Box
        ref={scrollRef}
        role="table"
        aria-label={label}
        aria-rowcount={rows.length + 1}
        data-testid={testId}
        sx={{ flex: 1, overflow: 'auto', position: 'relative' }}
      >
        <Box role="rowgroup" sx={{ position: 'sticky', top: 0, zIndex: 1, bgcolor: 'background.paper', borderBottom: 1, borderColor: 'divider', minWidth }}>
          <Box role="row" aria-rowindex={1} sx={{ display: 'grid', gridTemplateColumns: template, height: 40, alignItems: 'center' }}>
            {columns.map((column) => (
              <Box key={column.key} role="columnheader" sx={{ ...cellSx, fontWeight: 600, fontSize: '0.85rem', color: 'text.secondary' }}>
                {column.header}
              </Box>
            ))}
          </Box>
        </Box>
        {rows.length === 0 ? (
          <Typography sx={{ p: 3, color: 'text.secondary' }}>{emptyText}</Typography>
        ) : (
          <Box role="rowgroup" sx={{ height: virtualizer.getTotalSize(), position: 'relative', minWidth }}>
            {virtualizer.getVirtualItems().map((item) => {
              const row = rows[item.index];
              const key = rowKey(row);
              return (
                <Box
                  key={item.key}
                  role="row"
                  aria-rowindex={item.index + 2}
                  aria-label={rowName(row)}
                  aria-selected={selectedKey === undefined ? undefined : selectedKey === key}
                  data-key={key}
                  sx={{
                    position: 'absolute',
                    top: 0,
                    left: 0,
                    right: 0,
                    height: rowHeight,
                    transform: `translateY(${item.start}px)`,
                    display: 'grid',
                    gridTemplateColumns: template,
                    alignItems: 'center',
                    borderBottom: 1,
                    borderColor: 'divider',
                    fontSize: '0.875rem',
                    bgcolor: selectedKey === key ? 'action.selected' : undefined,
                    '&:hover': { bgcolor: 'action.hover' },
                  }}
                >
                  {columns.map((column) => (
                    <Box key={column.key} role="cell" sx={cellSx}>
                      {column.render(row)}
                    </Box>
                  ))}
                </Box>
              );
            })}
          </Box>
        )}
      </Box>
    </Paper>
  );
}
