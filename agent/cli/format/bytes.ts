/**
 * Byte counts as people read them. Pure (no Node imports), so the desktop renderer shows memory exactly
 * as `swarmctl node inspect` does.
 */
const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** go-humanize's IBytes, which SwarmKit uses for memory: `512 B`, `7.8 GiB`, `16 GiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 10) return `${bytes} B`;
  const exponent = Math.min(Math.floor(Math.log(bytes) / Math.log(1024)), BYTE_UNITS.length - 1);
  const value = Math.floor((bytes / 1024 ** exponent) * 10 + 0.5) / 10;
  return `${value < 10 ? value.toFixed(1) : value.toFixed(0)} ${BYTE_UNITS[exponent]}`;
}
