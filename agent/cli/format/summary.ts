/**
 * The "label : value" layout of SwarmKit's service and task inspect, which Go's tabwriter makes with
 * eight spaces of padding: every label (and every heading such as "Template") is padded to the
 * longest one plus eight, so the seed's minimal service reads
 *
 *   ID                : t2neubvbyyqc8rynt09drjhl9
 *   Template
 *    Container
 *     Image           : nginx:1.11.1-alpine
 *
 * Headings are printed without the padding tabwriter would leave after them.
 */

export type SummaryLine = { heading: string } | { label: string; value: string };

const PADDING = 8;

/** Drop a field whose value is empty, like SwarmKit's FprintfIfNotEmpty. */
export function item(label: string, value: string | undefined): SummaryLine[] {
  return value === undefined || value === '' ? [] : [{ label, value }];
}

export function section(heading: string, lines: readonly SummaryLine[] = []): SummaryLine[] {
  return [{ heading }, ...lines];
}

export function formatSummary(lines: readonly SummaryLine[]): string {
  const width = Math.max(0, ...lines.map((line) => ('heading' in line ? line.heading : line.label).length)) + PADDING;
  return lines.map((line) => ('heading' in line ? `${line.heading}\n` : `${line.label.padEnd(width)}: ${line.value}\n`)).join('');
}
