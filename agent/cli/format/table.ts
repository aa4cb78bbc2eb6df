/**
 * SwarmKit's list layout (Go's tabwriter with two spaces of padding): left-aligned columns two spaces
 * apart, a rule of dashes under each header word, no borders, no trailing spaces:
 *
 *   ID                         Name     Membership
 *   --                         ----     ----------
 *   5y4s6cvbbz2a8ygoc2ihj0ep3  mgmt-01  ACCEPTED
 *
 * cli-table3 lays out the columns; with every border character empty and two spaces of right padding
 * it produces exactly this, apart from padding the last column, which is trimmed here.
 */
import Table from 'cli-table3';

const NO_BORDERS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '',
} as const;

/** The table as text, one line per row, each ending in a newline. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const table = new Table({
    chars: NO_BORDERS,
    // No colours: output goes to pipes and scripts as often as to terminals.
    style: { 'padding-left': 0, 'padding-right': 2, head: [], border: [], compact: true },
  });
  table.push([...headers], headers.map((header) => '-'.repeat(header.length)), ...rows.map((row) => [...row]));
  return `${table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')}\n`;
}
