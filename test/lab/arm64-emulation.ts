/**
 * Running arm64 (aarch64) programs on this x86_64 machine, so a lab VM can stand in for an arm64
 * machine: qemu-user's binfmt_misc handler makes the kernel hand every aarch64 ELF file to the
 * emulator, and Debian's arm64 C libraries (multiarch) give dynamically linked programs such as
 * Node.js their loader and libraries. .ci/run sets both up.
 */
import { existsSync, readFileSync } from 'node:fs';

/** The handler Debian's qemu-user-static registers (update-binfmts --enable qemu-aarch64). */
export const AARCH64_HANDLER = '/proc/sys/fs/binfmt_misc/qemu-aarch64';
/** The program interpreter Node's arm64 build names (readelf -l: PT_INTERP). */
const AARCH64_LOADER = '/lib/ld-linux-aarch64.so.1';

export const ARM64_SETUP =
  'as root: mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; apt-get install qemu-user-static binfmt-support; ' +
  'update-binfmts --enable qemu-aarch64; dpkg --add-architecture arm64; apt-get update; apt-get install libc6:arm64 libstdc++6:arm64';

export interface Aarch64Handler {
  /** The interpreter as registered: what a process run through it has as argv[0]. */
  interpreter: string;
  flags: string;
}

/** The registered aarch64 handler, if there is one and it is enabled. */
export function aarch64Handler(): Aarch64Handler | undefined {
  let text: string;
  try {
    text = readFileSync(AARCH64_HANDLER, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  if (lines[0] !== 'enabled') return undefined;
  const field = (name: string) => lines.find((l) => l.startsWith(`${name} `))?.slice(name.length + 1).trim() ?? '';
  return { interpreter: field('interpreter'), flags: field('flags:') };
}

/** What is missing for aarch64 programs to run here (empty when nothing is). */
export function missingArm64Emulation(): string[] {
  const missing: string[] = [];
  const handler = aarch64Handler();
  if (handler === undefined) missing.push(`an enabled binfmt_misc handler ${AARCH64_HANDLER}`);
  // F (fix binary): the kernel opens the emulator when the handler is registered, so it is found from
  // the lab VMs' mount namespaces and from chroots as well.
  else if (!handler.flags.includes('F')) missing.push(`the F flag on ${AARCH64_HANDLER} (it has "${handler.flags}")`);
  if (!existsSync(AARCH64_LOADER)) missing.push(`the arm64 C libraries (${AARCH64_LOADER})`);
  return missing;
}
