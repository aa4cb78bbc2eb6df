/**
 * go-humanize's Time ("now", "1 second ago", "5 minutes ago", "3 days from now"), which SwarmKit's
 * swarmctl uses for a task's last state. Months are 30 days and years 12 months, as there.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const MONTH = 30 * DAY;
const YEAR = 12 * MONTH;

/** [below this many ms, text ("%d" takes the count), unit the count is in]. */
const MAGNITUDES: readonly [number, string, number][] = [
  [SECOND, 'now', 1],
  [2 * SECOND, '1 second', 1],
  [MINUTE, '%d seconds', SECOND],
  [2 * MINUTE, '1 minute', 1],
  [HOUR, '%d minutes', MINUTE],
  [2 * HOUR, '1 hour', 1],
  [DAY, '%d hours', HOUR],
  [2 * DAY, '1 day', 1],
  [WEEK, '%d days', DAY],
  [2 * WEEK, '1 week', 1],
  [MONTH, '%d weeks', WEEK],
  [2 * MONTH, '1 month', 1],
  [YEAR, '%d months', MONTH],
  [18 * MONTH, '1 year', 1],
  [2 * YEAR, '2 years', 1],
  [37 * YEAR, '%d years', YEAR],
];

export function timeAgo(then: Date, now: Date): string {
  const diff = now.getTime() - then.getTime();
  const suffix = diff < 0 ? 'from now' : 'ago';
  const distance = Math.abs(diff);
  for (const [below, text, unit] of MAGNITUDES) {
    if (distance < below) {
      if (text === 'now') return 'now';
      return `${text.replace('%d', String(Math.floor(distance / unit)))} ${suffix}`;
    }
  }
  return `a long while ${suffix}`;
}
