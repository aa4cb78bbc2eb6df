/**
 * The "label : value" layout of swarmctl's inspect commands. Labels (indented for sub-sections) are
 * padded to one width so the colons line up; section headings ("Status:") stand on their own line.
 * The width is at least 11, which is what the ID/Name block of `cluster inspect` shows.
 */

export type FieldLine = { heading: string } | { label: string; value: string };

const MIN_LABEL_WIDTH = 11;

/** Drop fields whose value is empty, like SwarmKit's FprintfIfNotEmpty. */
export function field(label: string, value: string | undefined): FieldLine[] {
  return value === undefined || value === '' ? [] : [{ label, value }];
}

export function heading(text: string): FieldLine[] {
  return [{ heading: text }];
}

export function formatFields(lines: readonly FieldLine[]): string {
  let width = MIN_LABEL_WIDTH;
  for (const line of lines) if ('label' in line) width = Math.max(width, line.label.length + 1);
  return lines.map((line) => ('label' in line ? `${line.label.padEnd(width)}: ${line.value}\n` : `${line.heading}\n`)).join('');
}
