/**
 * A table that renders only the rows in view (@tanstack/react-virtual), so 10,000 tasks stay fast.
 * It is an ARIA table (role table/row/cell with aria-rowcount and aria-rowindex), each row named after
 * its object (`getByRole('row', { name: 'web' })`), laid out with CSS grid so header and rows align.
 *
 * When the rows change (a burst of task updates), only the rows in view whose object, place or columns
 * changed render again (TableRow is memoized; pass `columns` and `rowName` that keep their identity).
 */
import Paper from '@mui/material/Paper';
import Typography from '@mui/material/Typography';
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useRef, type ReactNode } from 'react';

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

interface TableRowProps<T> {
  row: T;
  rowKey: string;
  index: number;
  start: number;
  rowHeight: number;
  template: string;
  columns: readonly Column<T>[];
  rowName(row: T): string;
  selected: boolean | undefined;
}

function TableRowOf<T>({ row, rowKey, index, start, rowHeight, template, columns, rowName, selected }: TableRowProps<T>) {
  return (
    <div
      role="row"
      aria-rowindex={index + 2}
      aria-label={rowName(row)}
      aria-selected={selected}
      data-key={rowKey}
      className="sd-row"
      style={{ height: rowHeight, transform: `translateY(${start}px)`, gridTemplateColumns: template }}
    >
      {columns.map((column) => (
        <div key={column.key} role="cell" className="sd-cell">
          {column.render(row)}
        </div>
      ))}
    </div>
  );
}

// memo() loses the type parameter; the cast gives it back.
const TableRow = memo(TableRowOf) as typeof TableRowOf;

export function VirtualTable<T>({ label, rows, columns, rowKey, rowName, rowHeight = 44, emptyText, minWidth = 900, testId, selectedKey }: VirtualTableProps<T>) {
  const scrollRef = useRef<HTMLDivElement>(null);
  // No getItemKey: the virtualizer recomputes every row's measurements when it changes, and a closure
  // over `rows` changes with every update. Rows have one fixed height, so keys by index measure the same.
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => rowHeight,
    overscan: 12,
  });
  const template = columns.map((column) => column.width).join(' ');
  return (
    <Paper variant="outlined" sx={{ display: 'flex', flexDirection: 'column', flex: 1, minHeight: 240, overflow: 'hidden' }}>
      <div ref={scrollRef} role="table" aria-label={label} aria-rowcount={rows.length + 1} data-testid={testId} style={{ flex: 1, overflow: 'auto', position: 'relative' }}>
        <div role="rowgroup" className="sd-table-head" style={{ minWidth }}>
          <div role="row" aria-rowindex={1} className="sd-head-row" style={{ gridTemplateColumns: template }}>
            {columns.map((column) => (
              <div key={column.key} role="columnheader" className="sd-cell sd-head-cell">
                {column.header}
              </div>
            ))}
          </div>
        </div>
        {rows.length === 0 ? (
          <Typography sx={{ p: 3, color: 'text.secondary' }}>{emptyText}</Typography>
        ) : (
          <div role="rowgroup" style={{ height: virtualizer.getTotalSize(), position: 'relative', minWidth }}>
            {virtualizer.getVirtualItems().map((item) => {
              const row = rows[item.index];
              const key = rowKey(row);
              return (
                <TableRow
                  key={key}
                  row={row}
                  rowKey={key}
                  index={item.index}
                  start={item.start}
                  rowHeight={rowHeight}
                  template={template}
                  columns={columns}
                  rowName={rowName}
                  selected={selectedKey === undefined ? undefined : selectedKey === key}
                />
              );
            })}
          </div>
        )}
      </div>
    </Paper>
  );
}
