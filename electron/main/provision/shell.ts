/** POSIX shell quoting for the commands provisioning sends (never used for secrets: those go on stdin). */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_./:=@%+-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
