/**
 * Go-style durations (`5s`, `90m`, `1h30m`, `2160h0m0s`), as SwarmKit's swarmctl reads and prints them
 * with time.ParseDuration and Duration.String. swarmdesk stores durations as whole milliseconds, so
 * parsing refuses anything finer (`2000us` is fine, `1500us` is not) and printing takes milliseconds.
 */

const MS_PER_UNIT: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3, // U+00B5 micro sign
  'μs': 1e-3, // U+03BC Greek mu
  ms: 1,
  s: 1000,
  m: 60 * 1000,
  h: 60 * 60 * 1000,
};

const MS_PER_SECOND = 1000;
const MS_PER_MINUTE = 60 * MS_PER_SECOND;
const MS_PER_HOUR = 60 * MS_PER_MINUTE;

const TERM = /^(\d*)(?:\.(\d*))?([a-zµμ]+)/;

/** Milliseconds for a Go duration string; throws a RangeError saying what is wrong. */
export function parseDuration(text: string): number {
  let rest = text.trim();
  const original = rest;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest.startsWith('-')) sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw new RangeError(`invalid duration "${original}"`);
  let total = 0;
  while (rest !== '') {
    const match = TERM.exec(rest);
    if (match === null) throw new RangeError(`invalid duration "${original}" (use a number and a unit, e.g. 5s, 90m, 2160h0m0s)`);
    const [term, whole, fraction, unit] = match;
    if (whole === '' && (fraction === undefined || fraction === '')) throw new RangeError(`invalid duration "${original}"`);
    const perUnit = MS_PER_UNIT[unit];
    if (perUnit === undefined) throw new RangeError(`unknown unit "${unit}" in duration "${original}" (use ns, us, ms, s, m or h)`);
    total += Number(`${whole === '' ? '0' : whole}.${fraction ?? ''}0`) * perUnit;
    rest = rest.slice(term.length);
  }
  // Sums of decimal fractions pick up float noise (0.1h = 360000.00000000006ms): round below a nanosecond.
  const ms = Math.round(total * 1e6) / 1e6;
  if (!Number.isInteger(ms)) throw new RangeError(`duration "${original}" is not a whole number of milliseconds`);
  if (!Number.isSafeInteger(ms)) throw new RangeError(`duration "${original}" is too long`);
  return sign * ms;
}

/** Go's Duration.String for whole milliseconds: `0s`, `250ms`, `1.5s`, `1m30s`, `2160h0m0s`. */
export function formatDuration(ms: number): string {
  if (!Number.isInteger(ms)) throw new RangeError(`durations are whole milliseconds, got ${ms}`);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms === 0) return '0s';
  if (ms < MS_PER_SECOND) return `${ms}ms`;
  const hours = Math.floor(ms / MS_PER_HOUR);
  const minutes = Math.floor((ms % MS_PER_HOUR) / MS_PER_MINUTE);
  const millis = ms % MS_PER_MINUTE;
  const wholeSeconds = Math.floor(millis / MS_PER_SECOND);
  const fraction = String(millis % MS_PER_SECOND).padStart(3, '0').replace(/0+$/, '');
  const seconds = fraction === '' ? `${wholeSeconds}s` : `${wholeSeconds}.${fraction}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}
